// Package pdfdoc writes A4 business documents with Japanese text — a
// proposal to a family, an invoice to a facility (適格請求書) — as PDF.
//
// The font is IPAexゴシック (font/ipaexg.ttf, IPA Font License v1.0),
// compiled into the binary with go:embed, so no system font is needed (the
// production image is distroless). Each document embeds only the glyphs it
// uses (a TrueType subset, FontFile2), which keeps a page of text to tens of
// kilobytes.
//
// A document is written top to bottom: a title, blocks of party details,
// label/value lines, tables (long tables continue on the next page with
// their header repeated), totals and footnotes. Every page gets a footer with
// the page number and total ("1 / 3").
package pdfdoc

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

//go:embed font/ipaexg.ttf
var fontTTF []byte

const (
	family = "ipaexg"

	pageW   = 210.0 // A4 portrait, mm
	pageH   = 297.0
	margin  = 18.0
	footerH = 12.0 // the page-number footer below the bottom margin
	bodyW   = pageW - 2*margin

	sizeTitle   = 18.0
	sizeHeading = 12.5
	sizeBody    = 10.5
	sizeSmall   = 8.5

	// lineFactor turns a font size in points into a line height in mm
	// (1 pt = 0.3528 mm; Japanese text reads best at about 1.6-1.75).
	lineFactor = 0.3528 * 1.6
)

// Align places text in a table column.
type Align int

const (
	Left Align = iota
	Right
	Center
)

func (a Align) fpdf() string {
	switch a {
	case Right:
		return "R"
	case Center:
		return "C"
	}
	return "L"
}

// Meta describes the document as a whole.
type Meta struct {
	Title   string    // the PDF's title (document properties) and the first-page heading
	Subject string    // optional
	Author  string    // the issuer, e.g. 安心介護紹介センター
	Created time.Time // shown in the properties; zero: now
	Footer  string    // optional text in every page's footer, left of the page number
}

// Doc is one PDF being written. Its methods record the first error and
// become no-ops after it; Write and Bytes report it.
type Doc struct {
	pdf  *fpdf.Fpdf
	meta Meta
}

// New starts an A4 portrait document with the title as its heading.
func New(meta Meta) *Doc {
	p := fpdf.New("P", "mm", "A4", "")
	p.SetMargins(margin, margin, margin)
	p.SetAutoPageBreak(true, margin+footerH)
	p.AliasNbPages("{nb}")
	p.AddUTF8FontFromBytes(family, "", fontTTF)
	created := meta.Created
	if created.IsZero() {
		created = time.Now()
	}
	p.SetCreationDate(created)
	p.SetModificationDate(created)
	p.SetTitle(meta.Title, true)
	if meta.Subject != "" {
		p.SetSubject(meta.Subject, true)
	}
	if meta.Author != "" {
		p.SetAuthor(meta.Author, true)
	}
	p.SetCreator("carematch", true)
	p.SetLang("ja")
	p.SetCatalogSort(true)
	p.SetTextColor(0x1a, 0x1a, 0x1a)
	p.SetDrawColor(0x66, 0x66, 0x66)
	p.SetLineWidth(0.2)
	d := &Doc{pdf: p, meta: meta}
	p.SetFooterFunc(d.footer)
	p.AddPage()
	if meta.Title != "" {
		d.Title(meta.Title)
	}
	return d
}

func (d *Doc) footer() {
	p := d.pdf
	p.SetFont(family, "", sizeSmall)
	p.SetTextColor(0x55, 0x55, 0x55)
	y := pageH - margin - footerH + 4
	p.SetDrawColor(0xbb, 0xbb, 0xbb)
	p.Line(margin, y, pageW-margin, y)
	p.SetXY(margin, y+1.5)
	if d.meta.Footer != "" {
		p.CellFormat(bodyW*0.7, 5, d.meta.Footer, "", 0, "L", false, 0, "")
	}
	// "{nb}" is replaced by the page count when the document closes; the
	// cell is wide enough for either.
	p.SetXY(pageW-margin-30, y+1.5)
	p.CellFormat(30, 5, fmt.Sprintf("%d / {nb}", p.PageNo()), "", 0, "R", false, 0, "")
	p.SetTextColor(0x1a, 0x1a, 0x1a)
	p.SetDrawColor(0x66, 0x66, 0x66)
}

func lineH(size float64) float64 { return size * lineFactor }

// bottom is the lowest y content may reach on a page.
func bottom() float64 { return pageH - margin - footerH }

// ensure starts a new page unless h mm still fit on this one.
func (d *Doc) ensure(h float64) {
	if d.pdf.GetY()+h > bottom() {
		d.pdf.AddPage()
	}
}

// Title writes a large centred heading (New writes Meta.Title this way).
func (d *Doc) Title(s string) {
	p := d.pdf
	p.SetFont(family, "", sizeTitle)
	d.lines(s, bodyW, sizeTitle, "C")
	p.Ln(3)
}

// Heading writes a section heading with a rule under it. It moves to a new
// page when the heading and two lines after it would not fit.
func (d *Doc) Heading(s string) {
	p := d.pdf
	p.Ln(2)
	d.ensure(lineH(sizeHeading) + 2 + 2*lineH(sizeBody))
	p.SetFont(family, "", sizeHeading)
	d.lines(s, bodyW, sizeHeading, "L")
	y := p.GetY()
	p.Line(margin, y, pageW-margin, y)
	p.Ln(2)
}

// Paragraph writes body text wrapped to the page width; "\n" breaks lines.
func (d *Doc) Paragraph(s string) {
	d.pdf.SetFont(family, "", sizeBody)
	d.lines(s, bodyW, sizeBody, "L")
	d.pdf.Ln(1.5)
}

// Note writes small grey text (explanations, legends).
func (d *Doc) Note(s string) {
	p := d.pdf
	p.SetFont(family, "", sizeSmall)
	p.SetTextColor(0x44, 0x44, 0x44)
	d.lines(s, bodyW, sizeSmall, "L")
	p.SetTextColor(0x1a, 0x1a, 0x1a)
	p.Ln(1)
}

// Space adds vertical space in mm.
func (d *Doc) Space(mm float64) { d.pdf.Ln(mm) }

// Block is a party on the document: the recipient or the issuer.
type Block struct {
	Name  string   // shown larger, underlined: 「山田様」「○○ホーム 御中」
	Lines []string // address, registration number, phone, date …
}

// Parties writes the recipient at the left and the issuer at the right,
// side by side, as Japanese business documents have them. Either may be
// empty.
func (d *Doc) Parties(recipient, issuer Block) {
	p := d.pdf
	colW := bodyW*0.5 - 4
	h := max(d.blockHeight(recipient, colW), d.blockHeight(issuer, colW))
	d.ensure(h)
	top := p.GetY()
	d.block(recipient, margin, top, colW)
	leftEnd := p.GetY()
	d.block(issuer, pageW-margin-colW, top, colW)
	p.SetXY(margin, max(leftEnd, p.GetY())+3)
}

func (d *Doc) blockHeight(b Block, w float64) float64 {
	p := d.pdf
	h := 0.0
	if b.Name != "" {
		p.SetFont(family, "", sizeHeading+1)
		h += float64(len(d.wrap(b.Name, w))) * lineH(sizeHeading+1)
		h += 1.5
	}
	p.SetFont(family, "", sizeBody)
	for _, l := range b.Lines {
		h += float64(len(d.wrap(l, w))) * lineH(sizeBody)
	}
	return h
}

func (d *Doc) block(b Block, x, y, w float64) {
	p := d.pdf
	p.SetXY(x, y)
	if b.Name != "" {
		p.SetFont(family, "", sizeHeading+1)
		for _, l := range d.wrap(b.Name, w) {
			p.SetX(x)
			p.CellFormat(w, lineH(sizeHeading+1), l, "", 2, "L", false, 0, "")
		}
		yy := p.GetY() + 0.3
		p.Line(x, yy, x+w, yy)
		p.SetY(yy + 1.2)
	}
	p.SetFont(family, "", sizeBody)
	for _, line := range b.Lines {
		for _, l := range d.wrap(line, w) {
			p.SetX(x)
			p.CellFormat(w, lineH(sizeBody), l, "", 2, "L", false, 0, "")
		}
	}
}

// KV is a label and its value.
type KV struct {
	Label string
	Value string
}

// KeyValues writes label/value lines: the labels in a column at the left,
// the values wrapped beside them.
func (d *Doc) KeyValues(rows []KV) {
	p := d.pdf
	p.SetFont(family, "", sizeBody)
	labelW := 0.0
	for _, r := range rows {
		labelW = max(labelW, p.GetStringWidth(r.Label)+4)
	}
	labelW = min(max(labelW, 25), bodyW*0.4)
	valueW := bodyW - labelW
	lh := lineH(sizeBody)
	for _, r := range rows {
		labels := d.wrap(r.Label, labelW-2)
		values := d.wrap(r.Value, valueW)
		n := max(len(labels), len(values))
		d.ensure(float64(n) * lh)
		y := p.GetY()
		p.SetTextColor(0x44, 0x44, 0x44)
		for i, l := range labels {
			p.SetXY(margin, y+float64(i)*lh)
			p.CellFormat(labelW, lh, l, "", 0, "L", false, 0, "")
		}
		p.SetTextColor(0x1a, 0x1a, 0x1a)
		for i, l := range values {
			p.SetXY(margin+labelW, y+float64(i)*lh)
			p.CellFormat(valueW, lh, l, "", 0, "L", false, 0, "")
		}
		p.SetXY(margin, y+float64(n)*lh)
	}
	p.Ln(1.5)
}

// Column of a table.
type Column struct {
	Header string
	Width  float64 // mm; 0: share what the other columns leave
	Align  Align   // yen amounts: Right
}

// Table is a grid with a header row. Cells wrap inside their column; a row
// that does not fit moves to the next page, which repeats the header.
type Table struct {
	Columns []Column
	Rows    [][]string
	Size    float64 // font size in points; 0: body size
}

func (t Table) widths() []float64 {
	ws := make([]float64, len(t.Columns))
	fixed, free := 0.0, 0
	for i, c := range t.Columns {
		ws[i] = c.Width
		if c.Width > 0 {
			fixed += c.Width
		} else {
			free++
		}
	}
	if free > 0 {
		share := max((bodyW-fixed)/float64(free), 10)
		for i := range ws {
			if ws[i] == 0 {
				ws[i] = share
			}
		}
	}
	return ws
}

const cellPad = 1.5 // mm inside each cell, left and right

// Table writes t.
func (d *Doc) Table(t Table) {
	if len(t.Columns) == 0 {
		return
	}
	p := d.pdf
	size := t.Size
	if size == 0 {
		size = sizeBody
	}
	lh := lineH(size)
	ws := t.widths()
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = c.Header
	}
	p.SetFont(family, "", size)
	headerH := d.rowHeight(header, ws, lh)
	first := 0.0
	if len(t.Rows) > 0 {
		first = d.rowHeight(t.Rows[0], ws, lh)
	}
	d.ensure(headerH + first)
	d.row(t.Columns, header, ws, lh, true)
	for _, r := range t.Rows {
		h := d.rowHeight(r, ws, lh)
		if p.GetY()+h > bottom() {
			p.AddPage()
			p.SetFont(family, "", size)
			d.row(t.Columns, header, ws, lh, true)
		}
		d.row(t.Columns, r, ws, lh, false)
	}
	p.Ln(2)
}

func (d *Doc) rowHeight(cells []string, ws []float64, lh float64) float64 {
	n := 1
	for i, w := range ws {
		if i < len(cells) {
			n = max(n, len(d.wrap(cells[i], w-2*cellPad)))
		}
	}
	return float64(n)*lh + 1.6
}

func (d *Doc) row(cols []Column, cells []string, ws []float64, lh float64, header bool) {
	p := d.pdf
	h := d.rowHeight(cells, ws, lh)
	y := p.GetY()
	x := margin
	style := "D"
	if header {
		p.SetFillColor(0xe8, 0xee, 0xf6)
		style = "FD"
	}
	for i, w := range ws {
		p.Rect(x, y, w, h, style)
		text := ""
		if i < len(cells) {
			text = cells[i]
		}
		align := cols[i].Align.fpdf()
		if header {
			align = "C"
		}
		for j, l := range d.wrap(text, w-2*cellPad) {
			p.SetXY(x+cellPad, y+0.8+float64(j)*lh)
			p.CellFormat(w-2*cellPad, lh, l, "", 0, align, false, 0, "")
		}
		x += w
	}
	p.SetXY(margin, y+h)
}

// Totals writes label/amount lines aligned to the right edge (小計, 消費税,
// 合計). The last row is drawn larger with a double rule above it when
// emphasiseLast is set.
func (d *Doc) Totals(rows []KV, emphasiseLast bool) {
	p := d.pdf
	labelW, valueW := 55.0, 40.0
	x := pageW - margin - labelW - valueW
	lh := lineH(sizeBody) + 1
	d.ensure(float64(len(rows))*lh + 4)
	for i, r := range rows {
		size := sizeBody
		if emphasiseLast && i == len(rows)-1 {
			size = sizeHeading + 1
			y := p.GetY() + 0.5
			p.Line(x, y, pageW-margin, y)
			p.Line(x, y+0.8, pageW-margin, y+0.8)
			p.SetY(y + 1.3)
		}
		p.SetFont(family, "", size)
		p.SetX(x)
		p.CellFormat(labelW, lineH(size)+1, r.Label, "", 0, "L", false, 0, "")
		p.CellFormat(valueW, lineH(size)+1, r.Value, "", 1, "R", false, 0, "")
	}
	p.Ln(2)
}

// Footnotes writes small numbered notes: ※1 …
func (d *Doc) Footnotes(notes []string) {
	p := d.pdf
	p.SetFont(family, "", sizeSmall)
	p.SetTextColor(0x44, 0x44, 0x44)
	lh := lineH(sizeSmall)
	for i, n := range notes {
		mark := "※"
		if len(notes) > 1 {
			mark += strconv.Itoa(i + 1)
		}
		markW := p.GetStringWidth(mark) + 1.5
		lines := d.wrap(n, bodyW-markW)
		d.ensure(float64(len(lines)) * lh)
		for j, l := range lines {
			p.SetX(margin)
			if j == 0 {
				p.CellFormat(markW, lh, mark, "", 0, "L", false, 0, "")
			} else {
				p.SetX(margin + markW)
			}
			p.CellFormat(bodyW-markW, lh, l, "", 1, "L", false, 0, "")
		}
	}
	p.SetTextColor(0x1a, 0x1a, 0x1a)
	p.Ln(1)
}

// PageBreak starts a new page.
func (d *Doc) PageBreak() { d.pdf.AddPage() }

// lines writes s wrapped to w with the current font, breaking pages as
// needed.
func (d *Doc) lines(s string, w, size float64, align string) {
	p := d.pdf
	lh := lineH(size)
	for _, l := range d.wrap(s, w) {
		d.ensure(lh)
		p.SetX(margin)
		p.CellFormat(w, lh, l, "", 1, align, false, 0, "")
	}
}

// noLineStart are characters a Japanese line must not begin with
// (行頭禁則); noLineEnd must not end one (行末禁則).
const (
	noLineStart = "、。，．,.)）」』】〕〉》］｝!！?？:：;；ー…‥々ゝゞぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ・%％"
	noLineEnd   = "(（「『【〔〈《［｛¥￥"
)

// wrap splits s into lines no wider than w mm in the current font: at
// "\n", between any two Japanese characters, and between words of Latin
// text, with the common kinsoku rules. A word longer than a line is cut.
func (d *Doc) wrap(s string, w float64) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var out []string
	for _, para := range strings.Split(s, "\n") {
		out = append(out, d.wrapLine(para, w)...)
	}
	return out
}

func (d *Doc) wrapLine(s string, w float64) []string {
	p := d.pdf
	if s == "" {
		return []string{""}
	}
	if p.GetStringWidth(s) <= w {
		return []string{s}
	}
	rs := []rune(s)
	var out []string
	start := 0
	for start < len(rs) {
		// the longest prefix that fits
		end := start
		width := 0.0
		for end < len(rs) {
			cw := p.GetStringWidth(string(rs[end]))
			if width+cw > w && end > start {
				break
			}
			width += cw
			end++
		}
		if end < len(rs) {
			end = breakPoint(rs, start, end)
		}
		out = append(out, strings.TrimRight(string(rs[start:end]), " "))
		start = end
		for start < len(rs) && rs[start] == ' ' {
			start++
		}
	}
	return out
}

// breakPoint moves a break before rs[end] back so that a Latin word is not
// cut, the next line does not start with closing punctuation and this one
// does not end with an opening bracket. It never returns start.
func breakPoint(rs []rune, start, end int) int {
	latin := func(r rune) bool { return r < 0x80 && r != ' ' }
	b := end
	if latin(rs[b]) && latin(rs[b-1]) {
		for i := b - 1; i > start; i-- {
			if !latin(rs[i-1]) {
				b = i
				break
			}
		}
		if b == end { // one word wider than the line: cut it
			return end
		}
	}
	for b > start+1 && (strings.ContainsRune(noLineStart, rs[b]) || strings.ContainsRune(noLineEnd, rs[b-1])) {
		b--
	}
	if b == start {
		return end
	}
	return b
}

// Write closes the document and writes the PDF to w.
func (d *Doc) Write(w io.Writer) error {
	if err := d.pdf.Output(w); err != nil {
		return fmt.Errorf("pdfdoc: %w", err)
	}
	return nil
}

// Bytes closes the document and returns the PDF.
func (d *Doc) Bytes() ([]byte, error) {
	var b bytes.Buffer
	if err := d.Write(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Yen formats an amount of yen with thousands separators: ¥1,234,000.
func Yen(n int64) string {
	sign := ""
	if n < 0 {
		sign = "-"
		n = -n
	}
	return sign + "¥" + groupDigits(strconv.FormatInt(n, 10))
}

// YenJP formats an amount as 1,234,000円.
func YenJP(n int64) string {
	sign := ""
	if n < 0 {
		sign = "-"
		n = -n
	}
	return sign + groupDigits(strconv.FormatInt(n, 10)) + "円"
}

func groupDigits(s string) string {
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
