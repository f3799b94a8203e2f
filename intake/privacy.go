package intake

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
)

// The privacy text shown above the consent checkbox. A change of wording is
// a new file and a new version (never an edit of a published one), so each
// case can say exactly which text its consent was given to.
//
//go:embed privacy/v1.md
var privacyV1 string

// Privacy is one published version of the privacy text.
type Privacy struct {
	Version string // "v1"
	Hash    string // sha256 of Text, hex: proves which wording was shown
	Text    string // Markdown: "## "/"### " headings, "- " items, paragraphs
}

// CurrentPrivacy is the version new requests are asked to agree to.
func CurrentPrivacy() Privacy {
	return newPrivacy("v1", privacyV1)
}

func newPrivacy(version, text string) Privacy {
	sum := sha256.Sum256([]byte(text))
	return Privacy{Version: version, Hash: hex.EncodeToString(sum[:]), Text: text}
}
