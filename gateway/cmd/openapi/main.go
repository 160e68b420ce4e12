// Command openapi writes the merged OpenAPI document to standard output
// (make generate keeps it in gateway/openapi/crm.openapi.json).
package main

import (
	"fmt"
	"os"

	"github.com/telecomcrm/crm/gateway/openapi"
)

func main() {
	doc, err := openapi.Merged()
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapi:", err)
		os.Exit(1)
	}
	os.Stdout.Write(append(doc, '\n'))
}
