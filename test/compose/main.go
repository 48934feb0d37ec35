// Validates a Compose file against the Compose Specification's JSON Schema, as docker compose itself does (compose-go
// is the spec's reference implementation and embeds the published schema), then prints the file as JSON for the
// project's own checks (images, variables).
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/schema"
	"go.yaml.in/yaml/v3"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check FILE")
		os.Exit(2)
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		fmt.Fprintln(os.Stderr, "not YAML:", err)
		os.Exit(1)
	}
	if err := schema.Validate(doc); err != nil {
		fmt.Fprintln(os.Stderr, "not a valid Compose file:", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(doc); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
