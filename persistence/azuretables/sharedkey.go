package azuretables

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// sharedKey signs the wire's requests with an account key, as the SDK's
// shared key credential does for the Table service (Shared Key Lite:
// HMAC-SHA256 of the date and the canonicalized resource).
type sharedKey struct {
	account string
	key     []byte
}

func newSharedKey(account, key string) (*sharedKey, error) {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return nil, fmt.Errorf("decode account key: %w", err)
	}
	return &sharedKey{account: account, key: k}, nil
}

// Do signs req (afresh on every try) and sends it on.
func (s *sharedKey) Do(req *policy.Request) (*http.Response, error) {
	raw := req.Raw()
	date := time.Now().UTC().Format(http.TimeFormat)
	raw.Header.Set("x-ms-date", date)
	path := raw.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(date + "\n/" + s.account + path))
	raw.Header.Set("Authorization", "SharedKeyLite "+s.account+":"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	return req.Next()
}
