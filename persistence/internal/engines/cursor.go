package engines

import (
	"fmt"
	"strconv"
)

// IntCursor parses the cursor of a snapshot scan that pages by an integer
// position, written with strconv.FormatInt (driver.HeadQuery.Cursor): 0
// for the first page. engine names the engine in the error.
func IntCursor(engine, cursor string) (int64, error) {
	if cursor == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: bad snapshot scan cursor %q", engine, cursor)
	}
	return n, nil
}
