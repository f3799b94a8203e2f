package providerschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// FromCDKTF reads the lib/ folder of an installed @cdktf/provider-aws
// package (node_modules/@cdktf/provider-aws/lib) and returns the provider
// schema it was generated from.
//
// Each lib/<name>/index.js holds one resource, data source or the provider.
// For every block, the generated *ToHclTerraform function (or the class's
// synthesizeHclAttributes) lists each configurable argument with its
// snake_case name, whether it is a block, its nesting and element type; the
// companion index.d.ts interface marks optional fields with "?"; and the
// OutputReference classes mark computed-only attributes with a comment
// ("// arn - computed: true, optional: false, required: false").
func FromCDKTF(libDir string) (*ProviderSchema, error) {
	dirs, err := os.ReadDir(libDir)
	if err != nil {
		return nil, fmt.Errorf("cdktf lib: %w", err)
	}
	ps := &ProviderSchema{ResourceSchemas: map[string]*Schema{}, DataSourceSchemas: map[string]*Schema{}}
	var problems []string
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(libDir, d.Name(), "index.js")); err != nil {
			continue // helper folders
		}
		// Large modules keep their nested structs in index-structs/*.js.
		js, dts, err := readTree(filepath.Join(libDir, d.Name()))
		if err != nil {
			return nil, fmt.Errorf("cdktf lib %s: %w", d.Name(), err)
		}
		m, err := parseModule(js, dts)
		if err != nil {
			problems = append(problems, d.Name()+": "+err.Error())
			continue
		}
		if m == nil {
			continue
		}
		switch m.kind {
		case "TerraformProvider":
			ps.Provider = &Schema{Block: m.block}
		case "TerraformResource":
			ps.ResourceSchemas[m.typeName] = &Schema{Block: m.block}
		case "TerraformDataSource":
			ps.DataSourceSchemas[m.typeName] = &Schema{Block: m.block}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, errors.New("cdktf lib: cannot read\n  " + strings.Join(problems, "\n  "))
	}
	if ps.Provider == nil {
		return nil, errors.New("cdktf lib: no provider configuration found (lib/provider)")
	}
	// Terraform rejects a schema whose set-nested blocks hold dynamic
	// attributes; the few "any" fields cdktf exposes there are JSON strings.
	for _, s := range ps.ResourceSchemas {
		undynamicSets(s.Block, false)
	}
	for _, s := range ps.DataSourceSchemas {
		undynamicSets(s.Block, false)
	}
	if len(ps.ResourceSchemas) < 100 {
		return nil, fmt.Errorf("cdktf lib: only %d resources found; is this @cdktf/provider-aws?", len(ps.ResourceSchemas))
	}
	return ps, nil
}

func markOptionalComputed(b *Block) {
	for _, a := range b.Attributes {
		if a.Optional {
			a.Computed = true
		}
	}
	for _, nb := range b.BlockTypes {
		markOptionalComputed(nb.Block)
	}
}

func undynamicSets(b *Block, inSet bool) {
	for _, a := range b.Attributes {
		if inSet || strings.Contains(string(a.Type), `["set"`) {
			a.Type = json.RawMessage(strings.ReplaceAll(string(a.Type), `"dynamic"`, `"string"`))
		}
	}
	for _, nb := range b.BlockTypes {
		undynamicSets(nb.Block, inSet || nb.NestingMode == "set")
	}
}

type module struct {
	kind     string // TerraformProvider, TerraformResource, TerraformDataSource
	typeName string // aws_ecs_service
	block    *Block
}

type parser struct {
	chunks     map[string]string          // top-level class or function name → its text
	interfaces map[string]map[string]bool // interface → field (camelCase) → optional
	renames    map[string]string          // main class private field → config field
}

var (
	reTop        = regexp.MustCompile(`^(?:class|function) (\w+)`)
	reMainClass  = regexp.MustCompile(`(?m)^class (\w+) extends cdktf\.(TerraformResource|TerraformDataSource|TerraformProvider) \{`)
	reTypeName   = regexp.MustCompile(`terraformResourceType: '([a-z0-9_]+)'`)
	reInterface  = regexp.MustCompile(`^export interface (\w+)`)
	reField      = regexp.MustCompile(`^\s+readonly (\w+)(\??):`)
	reEntry      = regexp.MustCompile(`(?m)^\s+"?(\w+)"?: \{\n\s+value: (.+),\n\s+isBlock: (true|false),\n\s+type: "(\w+)",\n\s+storageClassType: "(\w+)",`)
	reIsBlock    = regexp.MustCompile(`isBlock: (?:true|false),`)
	reCamel      = regexp.MustCompile(`(?:struct\.|this\._)(\w+)`)
	reNestedFn   = regexp.MustCompile(`(\w+\.)?([a-z]\w*)ToHclTerraform\b`)
	reCtorConfig = regexp.MustCompile(`constructor\(scope: Construct, id: string, config\??: (\w+)\)`)
	reCtorField  = regexp.MustCompile(`this\._(\w+)(?:\.internalValue)? = config\.(\w+);`)
	reComputed   = regexp.MustCompile(`(?m)^\s+// (\w+) - computed: true, optional: (true|false), required: false\n\s+(?:get (\w+)\(\) \{\n\s+return (.+);|this\._(\w+) = new (\w+)\(this, "(\w+)"(?:, (true|false))?\);)`)
	reGetterKind = regexp.MustCompile(`get(String|Number|Boolean|Any)?(List|Map|)Attribute\('`)
)

func parseModule(js, dts string) (*module, error) {
	mc := reMainClass.FindStringSubmatch(js)
	if mc == nil {
		return nil, nil
	}
	p := &parser{chunks: splitChunks(js, reTop), interfaces: parseInterfaces(dts)}
	main := p.chunks[mc[1]]
	m := &module{kind: mc[2]}
	tn := reTypeName.FindStringSubmatch(main)
	if tn == nil {
		return nil, fmt.Errorf("class %s: no terraformResourceType", mc[1])
	}
	m.typeName = tn[1]
	var err error
	iface := mc[1] + "Config"
	if c := reCtorConfig.FindStringSubmatch(dts); c != nil {
		iface = c[1]
	}
	// The class may store a config field under another name
	// (this._self = config.selfAttribute), so the synthesized entries name
	// the private field; map it back to the interface field.
	p.renames = map[string]string{}
	for _, f := range reCtorField.FindAllStringSubmatch(main, -1) {
		p.renames[f[1]] = f[2]
	}
	m.block, err = p.block(main, main, iface, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.typeName, err)
	}
	if m.kind == "TerraformProvider" {
		delete(m.block.Attributes, "alias") // a meta-argument, not part of the schema
	}
	// cdktf does not say which optional arguments are also computed (the
	// provider fills them in when unset: region, id, tags_all and most
	// SDKv2 arguments). Treating every optional argument as optional+computed
	// changes nothing for validation and lets mock_provider fill in values a
	// configuration reads back, as the real provider would.
	markOptionalComputed(m.block)
	return m, nil
}

// block builds one block from the chunk listing its configurable entries
// (hcl), the chunk of the class exposing its computed attributes (outClass)
// and the d.ts interface naming its optional fields.
func (p *parser) block(hcl, outClass, iface string, depth int) (*Block, error) {
	if depth > 20 {
		return nil, errors.New("nesting deeper than 20 levels")
	}
	b := &Block{Attributes: map[string]*Attribute{}, BlockTypes: map[string]*NestedBlock{}}
	entries := reEntry.FindAllStringSubmatch(hcl, -1)
	if n := len(reIsBlock.FindAllString(hcl, -1)); n != len(entries) {
		return nil, fmt.Errorf("%s: %d entries but %d parsed", iface, n, len(entries))
	}
	fields, ok := p.interfaces[iface]
	if !ok && len(entries) > 0 {
		return nil, fmt.Errorf("no interface %s", iface)
	}
	for _, e := range entries {
		name, value, isBlock, kind, storage := e[1], e[2], e[3] == "true", e[4], e[5]
		cm := reCamel.FindAllStringSubmatch(value, -1)
		if cm == nil {
			return nil, fmt.Errorf("%s.%s: no field in %q", iface, name, value)
		}
		camel := cm[len(cm)-1][1]
		if depth == 0 && p.renames[camel] != "" {
			camel = p.renames[camel]
		}
		optional, known := fields[camel]
		if !known {
			return nil, fmt.Errorf("%s.%s: field %s not in interface", iface, name, camel)
		}
		if !isBlock {
			t, err := attrType(kind, storage)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", iface, name, err)
			}
			b.Attributes[name] = &Attribute{Type: t, Required: !optional, Optional: optional}
			continue
		}
		var fn []string
		for _, f := range reNestedFn.FindAllStringSubmatch(value, -1) {
			if f[1] != "cdktf." {
				fn = []string{f[0], f[2]}
			}
		}
		if fn == nil {
			return nil, fmt.Errorf("%s.%s: block without a nested function in %q", iface, name, value)
		}
		base := upperFirst(fn[1])
		nestedHCL, ok := p.chunks[fn[1]+"ToHclTerraform"]
		if !ok {
			return nil, fmt.Errorf("%s.%s: no function %sToHclTerraform", iface, name, fn[1])
		}
		nb, err := p.block(nestedHCL, p.chunks[base+"OutputReference"], base, depth+1)
		if err != nil {
			return nil, err
		}
		many := strings.Contains(value, "listMapperHcl(") || strings.Contains(value, "hashMapperHcl(")
		bt := &NestedBlock{Block: nb}
		switch kind {
		case "list", "set":
			bt.NestingMode = kind
			if !many {
				bt.MaxItems = 1
			}
			if !optional {
				bt.MinItems = 1
			}
		case "struct":
			bt.NestingMode = "single"
			if !optional {
				bt.MinItems, bt.MaxItems = 1, 1
			}
		case "map":
			bt.NestingMode = "map"
		default:
			return nil, fmt.Errorf("%s.%s: unknown block kind %q", iface, name, kind)
		}
		b.BlockTypes[name] = bt
	}
	if outClass == "" {
		return b, nil
	}
	for _, c := range reComputed.FindAllStringSubmatch(outClass, -1) {
		name, alsoOptional := c[1], c[2] == "true"
		if alsoOptional {
			if a := b.Attributes[name]; a != nil {
				a.Computed = true
			}
			continue
		}
		if b.Attributes[name] != nil || b.BlockTypes[name] != nil {
			continue
		}
		var t json.RawMessage
		if c[3] != "" {
			t = getterType(c[4])
		} else {
			t = p.complexType(c[6], c[8] == "true", depth+1)
		}
		b.Attributes[name] = &Attribute{Type: t, Computed: true}
	}
	return b, nil
}

// complexType is the type of a computed-only nested object, list, set or map
// exposed through an OutputReference class.
func (p *parser) complexType(class string, wrapsSet bool, depth int) json.RawMessage {
	dynamic := json.RawMessage(`"dynamic"`)
	if depth > 20 {
		return dynamic
	}
	var base, wrap string
	switch {
	case strings.HasSuffix(class, "OutputReference"):
		base = strings.TrimSuffix(class, "OutputReference")
	case strings.HasSuffix(class, "List"):
		base, wrap = strings.TrimSuffix(class, "List"), "list"
		if wrapsSet {
			wrap = "set"
		}
	case strings.HasSuffix(class, "Map"):
		base, wrap = strings.TrimSuffix(class, "Map"), "map"
	default:
		return dynamic
	}
	body, ok := p.chunks[base+"OutputReference"]
	if !ok {
		return dynamic
	}
	attrs := map[string]json.RawMessage{}
	for _, c := range reComputed.FindAllStringSubmatch(body, -1) {
		if c[3] != "" {
			attrs[c[1]] = getterType(c[4])
		} else {
			attrs[c[1]] = p.complexType(c[6], c[8] == "true", depth+1)
		}
	}
	if len(attrs) == 0 {
		return dynamic
	}
	obj, _ := json.Marshal([]any{"object", attrs})
	if wrap == "" {
		return obj
	}
	out, _ := json.Marshal([]any{wrap, json.RawMessage(obj)})
	return out
}

func getterType(expr string) json.RawMessage {
	m := reGetterKind.FindStringSubmatch(expr)
	if m == nil {
		return json.RawMessage(`"dynamic"`)
	}
	elem := map[string]string{"": "string", "String": "string", "Number": "number", "Boolean": "bool", "Any": "dynamic"}[m[1]]
	switch m[2] {
	case "":
		return json.RawMessage(`"` + elem + `"`)
	case "List":
		if strings.Contains(expr, "Fn.tolist(") {
			return json.RawMessage(`["set","` + elem + `"]`)
		}
		return json.RawMessage(`["list","` + elem + `"]`)
	case "Map":
		if elem == "dynamic" {
			return json.RawMessage(`"dynamic"`)
		}
		return json.RawMessage(`["map","` + elem + `"]`)
	}
	return json.RawMessage(`"dynamic"`)
}

func attrType(kind, storage string) (json.RawMessage, error) {
	scalar := map[string]string{"string": "string", "number": "number", "boolean": "bool", "any": "dynamic"}
	if kind == "simple" {
		if s, ok := scalar[storage]; ok {
			return json.RawMessage(`"` + s + `"`), nil
		}
		return nil, fmt.Errorf("unknown simple type %q", storage)
	}
	elems := map[string]string{
		"stringList": `"string"`, "numberList": `"number"`, "booleanList": `"bool"`,
		"stringMap": `"string"`, "numberMap": `"number"`, "booleanMap": `"bool"`,
		"stringListList": `["list","string"]`, "stringMapList": `["map","string"]`,
		"stringMapMap": `["map","string"]`,
	}
	elem, ok := elems[storage]
	if !ok || (kind != "list" && kind != "set" && kind != "map") {
		return nil, fmt.Errorf("unknown %s type %q", kind, storage)
	}
	return json.RawMessage(`["` + kind + `",` + elem + `]`), nil
}

// readTree concatenates the .js and the .d.ts files of one module folder.
func readTree(dir string) (js, dts string, err error) {
	var j, d strings.Builder
	err = filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		var dst *strings.Builder
		switch {
		case strings.HasSuffix(path, ".d.ts"):
			dst = &d
		case strings.HasSuffix(path, ".js"):
			dst = &j
		default:
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dst.Write(b)
		dst.WriteString("\n")
		return nil
	})
	return j.String(), d.String(), err
}

func splitChunks(src string, start *regexp.Regexp) map[string]string {
	out := map[string]string{}
	var name string
	var cur strings.Builder
	flush := func() {
		if name != "" {
			out[name] = cur.String()
		}
		cur.Reset()
	}
	for _, line := range strings.SplitAfter(src, "\n") {
		if m := start.FindStringSubmatch(line); m != nil {
			flush()
			name = m[1]
		}
		cur.WriteString(line)
	}
	flush()
	return out
}

func parseInterfaces(dts string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	var cur map[string]bool
	for _, line := range strings.Split(dts, "\n") {
		if m := reInterface.FindStringSubmatch(line); m != nil {
			cur = map[string]bool{}
			out[m[1]] = cur
			continue
		}
		if strings.HasPrefix(line, "export ") || strings.HasPrefix(line, "}") {
			if strings.HasPrefix(line, "export ") {
				cur = nil
			}
			continue
		}
		if cur == nil {
			continue
		}
		if m := reField.FindStringSubmatch(line); m != nil {
			cur[m[1]] = m[2] == "?"
		}
	}
	return out
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
