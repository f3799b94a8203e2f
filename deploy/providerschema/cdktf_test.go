package providerschema

import (
	"encoding/json"
	"testing"
)

// A trimmed module in the shape cdktf generates (see any
// node_modules/@cdktf/provider-aws/lib/*/index.js and index.d.ts).
const fixtureJS = `"use strict";
function thingBoxToHclTerraform(struct) {
    const attrs = {
        size: {
            value: cdktf.numberToHclTerraform(struct.size),
            isBlock: false,
            type: "simple",
            storageClassType: "number",
        },
        inner: {
            value: cdktf.listMapperHcl(thingBoxInnerToHclTerraform, true)(struct.inner),
            isBlock: true,
            type: "set",
            storageClassType: "ThingBoxInnerList",
        },
    };
}
class ThingBoxOutputReference extends cdktf.ComplexObject {
    // box_id - computed: true, optional: false, required: false
    get boxId() {
        return this.getStringAttribute('box_id');
    }
}
exports.ThingBoxOutputReference = ThingBoxOutputReference;
function thingBoxInnerToHclTerraform(struct) {
    const attrs = {
        tags: {
            value: cdktf.hashMapperHcl(cdktf.stringToHclTerraform)(struct.tags),
            isBlock: false,
            type: "map",
            storageClassType: "stringMap",
        },
    };
}
class Thing extends cdktf.TerraformResource {
    constructor(scope, id, config) {
        super(scope, id, {
            terraformResourceType: 'aws_thing',
        });
        // box - computed: false, optional: false, required: true
        this._box = new ThingBoxOutputReference(this, "box");
        // endpoints - computed: true, optional: false, required: false
        this._endpoints = new ThingEndpointsList(this, "endpoints", false);
        this._name = config.name;
        this._self = config.selfAttribute;
        this._box.internalValue = config.box;
    }
    // arn - computed: true, optional: false, required: false
    get arn() {
        return this.getStringAttribute('arn');
    }
    // zones - computed: true, optional: false, required: false
    get zones() {
        return cdktf.Fn.tolist(this.getListAttribute('zones'));
    }
    synthesizeHclAttributes() {
        const attrs = {
            name: {
                value: cdktf.stringToHclTerraform(this._name),
                isBlock: false,
                type: "simple",
                storageClassType: "string",
            },
            self: {
                value: cdktf.booleanToHclTerraform(this._self),
                isBlock: false,
                type: "simple",
                storageClassType: "boolean",
            },
            box: {
                value: thingBoxToHclTerraform(this._box.internalValue),
                isBlock: true,
                type: "list",
                storageClassType: "ThingBoxList",
            },
        };
    }
}
exports.Thing = Thing;
class ThingEndpointsOutputReference extends cdktf.ComplexObject {
    // address - computed: true, optional: false, required: false
    get address() {
        return this.getStringAttribute('address');
    }
    // port - computed: true, optional: false, required: false
    get port() {
        return this.getNumberAttribute('port');
    }
}
exports.ThingEndpointsOutputReference = ThingEndpointsOutputReference;
`

const fixtureDTS = `export interface ThingConfig extends cdktf.TerraformMetaArguments {
    readonly name: string;
    readonly selfAttribute?: boolean | cdktf.IResolvable;
    readonly box: ThingBox;
}
export interface ThingBox {
    readonly size?: number;
    readonly inner?: ThingBoxInner[] | cdktf.IResolvable;
}
export interface ThingBoxInner {
    readonly tags?: { [key: string]: string };
}
export declare class Thing extends cdktf.TerraformResource {
    constructor(scope: Construct, id: string, config: ThingConfig);
}
`

func TestParseModule(t *testing.T) {
	m, err := parseModule(fixtureJS, fixtureDTS)
	if err != nil {
		t.Fatal(err)
	}
	if m.kind != "TerraformResource" || m.typeName != "aws_thing" {
		t.Fatalf("got %s %s", m.kind, m.typeName)
	}
	b := m.block
	attr := func(b *Block, name, typ string, required, optional, computed bool) {
		t.Helper()
		a := b.Attributes[name]
		if a == nil {
			t.Errorf("attribute %s missing", name)
			return
		}
		if string(a.Type) != typ || a.Required != required || a.Optional != optional || a.Computed != computed {
			t.Errorf("%s: got %s required=%v optional=%v computed=%v, want %s %v %v %v",
				name, a.Type, a.Required, a.Optional, a.Computed, typ, required, optional, computed)
		}
	}
	attr(b, "name", `"string"`, true, false, false)
	attr(b, "self", `"bool"`, false, true, true) // renamed field (selfAttribute)
	attr(b, "arn", `"string"`, false, false, true)
	attr(b, "zones", `["set","string"]`, false, false, true)
	attr(b, "endpoints", `["list",["object",{"address":"string","port":"number"}]]`, false, false, true)

	box := b.BlockTypes["box"]
	if box == nil || box.NestingMode != "list" || box.MinItems != 1 || box.MaxItems != 1 {
		t.Fatalf("box: got %+v, want a required list block of at most one", box)
	}
	attr(box.Block, "size", `"number"`, false, true, true)
	attr(box.Block, "box_id", `"string"`, false, false, true)
	inner := box.Block.BlockTypes["inner"]
	if inner == nil || inner.NestingMode != "set" || inner.MinItems != 0 || inner.MaxItems != 0 {
		t.Fatalf("inner: got %+v, want an optional set block", inner)
	}
	attr(inner.Block, "tags", `["map","string"]`, false, true, true)

	// The protocol form Terraform receives.
	p, err := (&Schema{Block: b}).Proto()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Block.Attributes) != 5 || len(p.Block.BlockTypes) != 1 {
		t.Errorf("proto: %d attributes, %d blocks", len(p.Block.Attributes), len(p.Block.BlockTypes))
	}
}

func TestParseModuleRefusesWhatItCannotRead(t *testing.T) {
	// An entry whose field the interface does not declare means the
	// generated code changed shape; the generator must stop, not guess.
	dts := `export interface ThingConfig extends cdktf.TerraformMetaArguments {
    readonly box: ThingBox;
}
export interface ThingBox {
    readonly size?: number;
    readonly inner?: ThingBoxInner[] | cdktf.IResolvable;
}
export interface ThingBoxInner {
    readonly tags?: { [key: string]: string };
}
`
	if _, err := parseModule(fixtureJS, dts); err == nil {
		t.Error("parsed a module whose interface lacks the name field")
	}
}

func TestType(t *testing.T) {
	for _, raw := range []string{`"string"`, `["list",["map","number"]]`, `["object",{"a":["set","bool"]}]`, `"dynamic"`} {
		if _, err := Type(json.RawMessage(raw)); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
	for _, raw := range []string{`"float"`, `["tuple"]`, `["bag","string"]`} {
		if _, err := Type(json.RawMessage(raw)); err == nil {
			t.Errorf("%s accepted", raw)
		}
	}
}
