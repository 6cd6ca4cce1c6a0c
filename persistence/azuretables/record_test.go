package azuretables

import (
	"flag"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

var record = flag.Bool("record", false, "write the failed-batch bodies Azurite returns to testdata")

func readPayload(re *azcore.ResponseError) ([]byte, error) { return runtime.Payload(re.RawResponse) }
