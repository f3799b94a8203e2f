// Package providerschema turns the AWS provider schema carried by the npm
// package @cdktf/provider-aws into a Terraform provider schema, and serves it
// from a schema-only provider plugin.
//
// No provider registry is reachable where the infrastructure is checked, so
// `terraform validate` and `terraform test` with mock_provider need another
// way to learn which arguments and blocks each aws_* resource has. The cdktf
// bindings are generated from the real hashicorp/aws schema and keep, for
// every resource and nested block, the snake_case names, which names are
// blocks, the list/set/single/map nesting, which blocks hold at most one
// element, which arguments are required and which attributes are
// computed-only. That is enough for Terraform to report unknown arguments,
// missing required arguments or blocks, wrong types and too many blocks.
//
// What it cannot know: provider-side validation (enums, regexes, conflicts
// between arguments), plan-time defaults and anything the provider checks
// against the AWS API. Those stay in the runbook.
package providerschema

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

// Document is the subset of `terraform providers schema -json` this package
// writes and reads, for a single provider.
type Document struct {
	FormatVersion   string                     `json:"format_version"`
	ProviderSchemas map[string]*ProviderSchema `json:"provider_schemas"`
}

// ProviderSchema is one provider's configuration, resources and data sources.
type ProviderSchema struct {
	Provider          *Schema            `json:"provider"`
	ResourceSchemas   map[string]*Schema `json:"resource_schemas"`
	DataSourceSchemas map[string]*Schema `json:"data_source_schemas"`
}

// Schema is a versioned block.
type Schema struct {
	Version int64  `json:"version"`
	Block   *Block `json:"block"`
}

// Block is a configuration block: attributes and nested blocks.
type Block struct {
	Attributes map[string]*Attribute   `json:"attributes,omitempty"`
	BlockTypes map[string]*NestedBlock `json:"block_types,omitempty"`
}

// Attribute is one argument or exported attribute. Type is a cty type in
// its JSON form: "string", ["list","string"], ["object",{...}], "dynamic".
type Attribute struct {
	Type     json.RawMessage `json:"type"`
	Required bool            `json:"required,omitempty"`
	Optional bool            `json:"optional,omitempty"`
	Computed bool            `json:"computed,omitempty"`
}

// NestedBlock is a block type inside a Block.
type NestedBlock struct {
	NestingMode string `json:"nesting_mode"` // single, list, set, map
	Block       *Block `json:"block"`
	MinItems    int64  `json:"min_items,omitempty"`
	MaxItems    int64  `json:"max_items,omitempty"`
}

// ProviderAddress is the address the schema is published under.
const ProviderAddress = "registry.terraform.io/hashicorp/aws"

// Load reads a schema document written by Write.
func Load(path string) (*ProviderSchema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("provider schema: %w", err)
	}
	var doc Document
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("provider schema %s: %w", path, err)
	}
	ps := doc.ProviderSchemas[ProviderAddress]
	if ps == nil || ps.Provider == nil {
		return nil, fmt.Errorf("provider schema %s: no %s", path, ProviderAddress)
	}
	return ps, nil
}

// Write stores the schema as JSON.
func Write(path string, ps *ProviderSchema) error {
	doc := Document{FormatVersion: "1.0", ProviderSchemas: map[string]*ProviderSchema{ProviderAddress: ps}}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Names returns the sorted keys of a schema map.
func Names(m map[string]*Schema) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
