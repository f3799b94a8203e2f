package pdfdoc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// invoice builds a document of the shape billing writes: parties, key
// values, a table long enough to need n pages, totals and footnotes.
func invoice(rows int) *Doc {
	d := New(Meta{
		Title:   "請求書",
		Author:  "安心介護紹介センター",
		Created: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC),
		Footer:  "安心介護紹介センター　登録番号 T1234567890123",
	})
	d.Parties(
		Block{Name: "ケアホームさくら 御中", Lines: []string{"〒150-0001", "東京都渋谷区神宮前一丁目2番3号"}},
		Block{Name: "安心介護紹介センター", Lines: []string{"登録番号 T1234567890123", "発行日 2026年11月30日"}},
	)
	d.KeyValues([]KV{{"請求番号", "INV-2026-11-0001"}, {"お支払期限", "2026年12月31日"}, {"お振込先", "みずほ銀行 渋谷支店 普通 1234567 アンシンカイゴショウカイセンター"}})
	d.Heading("ご請求明細")
	t := Table{Columns: []Column{
		{Header: "入居日", Width: 34},
		{Header: "内容"},
		{Header: "税率", Width: 16, Align: Center},
		{Header: "金額（税抜）", Width: 32, Align: Right},
	}}
	for i := range rows {
		t.Rows = append(t.Rows, []string{
			fmt.Sprintf("2026年11月%02d日", i%28+1),
			fmt.Sprintf("紹介手数料（入居 %d件目、受付番号 C-%05d）", i+1, i+1),
			"10%",
			Yen(int64(215000 + i)),
		})
	}
	d.Table(t)
	d.Totals([]KV{{"小計（10%対象）", Yen(215000)}, {"消費税（10%）", Yen(21500)}, {"ご請求金額（税込）", Yen(236500)}}, true)
	d.Footnotes([]string{"端数処理は請求書ごとに一回、切り捨てです。", "短期退去（入居後90日以内）の返金は翌月の請求で精算します。"})
	return d
}

func TestWritesJapanesePDFWithEmbeddedSubsetFont(t *testing.T) {
	b, err := invoice(3).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-1.")) {
		t.Fatalf("no PDF header: %q", b[:min(len(b), 16)])
	}
	if !bytes.Contains(b, []byte("/FontFile2")) {
		t.Error("the TrueType font is not embedded (no /FontFile2)")
	}
	// the font is a subset: the whole font is 6 MB, a page of text must
	// stay in tens of kilobytes.
	if len(b) > 120_000 {
		t.Errorf("one-page invoice is %d bytes: is the font subset?", len(b))
	}
	t.Logf("one-page invoice: %d bytes", len(b))

	text := pdfText(t, b)
	if !strings.Contains(strings.ReplaceAll(text, " ", ""), "1/1") {
		t.Error("no page number 1 / 1")
	}
	for _, want := range []string{"請求書", "ケアホームさくら 御中", "登録番号 T1234567890123", "紹介手数料", "¥215,000", "¥236,500", "ご請求金額（税込）", "※2"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF text lacks %q\n%s", want, text)
		}
	}
}

func TestLongTableBreaksPagesAndRepeatsHeader(t *testing.T) {
	b, err := invoice(120).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	pages := pdfPages(t, b)
	if len(pages) < 3 {
		t.Fatalf("120 rows on %d pages, want at least 3", len(pages))
	}
	for i, p := range pages {
		if !strings.Contains(strings.ReplaceAll(p, " ", ""), fmt.Sprintf("%d/%d", i+1, len(pages))) {
			t.Errorf("page %d lacks its number \"%d / %d\"", i+1, i+1, len(pages))
		}
		if i > 0 && !strings.Contains(p, "金額（税抜）") {
			t.Errorf("page %d does not repeat the table header", i+1)
		}
	}
	all := strings.Join(pages, "\n")
	for _, ref := range []string{"C-00001", "C-00060", "C-00120"} {
		if !strings.Contains(all, ref) {
			t.Errorf("row %s missing", ref)
		}
	}
	t.Logf("120-row invoice: %d pages, %d bytes", len(pages), len(b))
}

func TestWrapKeepsWordsAndKinsoku(t *testing.T) {
	d := New(Meta{Title: "x"})
	d.pdf.SetFont(family, "", sizeBody)
	w := d.pdf.GetStringWidth("あいうえおかきくけこ") + 0.1 // ten full-width characters
	if got := d.wrap("あいうえおかきくけこさしすせそ", w); strings.Join(got, "|") != "あいうえおかきくけこ|さしすせそ" {
		t.Errorf("plain wrap: %q", got)
	}
	// 。 may not start a line: the character before it moves down with it
	got := d.wrap("あいうえおかきくけこ。さしす", w)
	for _, l := range got {
		if strings.HasPrefix(l, "。") {
			t.Errorf("line starts with 。: %q", got)
		}
		if d.pdf.GetStringWidth(l) > w {
			t.Errorf("line %q wider than %.1f mm", l, w)
		}
	}
	if strings.Join(got, "") != "あいうえおかきくけこ。さしす" {
		t.Errorf("wrap lost text: %q", got)
	}
	if got := d.wrap("一行目\n二行目", w); strings.Join(got, "|") != "一行目|二行目" {
		t.Errorf("explicit break: %q", got)
	}
	// Latin words stay whole when they fit on a line
	narrow := d.pdf.GetStringWidth("hello world") + 0.1
	if got := d.wrap("hello world again", narrow); strings.Join(got, "|") != "hello world|again" {
		t.Errorf("latin wrap: %q", got)
	}
	// a word wider than the line is cut, not lost
	if got := d.wrap("abcdefghijklmnopqrstuvwxyz", d.pdf.GetStringWidth("abcdefghij")); strings.Join(got, "") != "abcdefghijklmnopqrstuvwxyz" || len(got) < 2 {
		t.Errorf("long word: %q", got)
	}
}

func TestYen(t *testing.T) {
	for n, want := range map[int64]string{0: "¥0", 999: "¥999", 1000: "¥1,000", 215000: "¥215,000", 1234567: "¥1,234,567", -21500: "-¥21,500"} {
		if got := Yen(n); got != want {
			t.Errorf("Yen(%d) = %q, want %q", n, got, want)
		}
	}
	if got := YenJP(1234567); got != "1,234,567円" {
		t.Errorf("YenJP = %q", got)
	}
}

func TestEmbeddedFontIsTheCreditedOne(t *testing.T) {
	src, err := os.ReadFile("font/SOURCE.md")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(fontTTF)
	if !bytes.Contains(src, []byte(hex.EncodeToString(sum[:]))) {
		t.Errorf("font/SOURCE.md does not name the embedded font's SHA-256 %x", sum)
	}
	if _, err := os.Stat("font/IPA_Font_License_Agreement_v1.0.txt"); err != nil {
		t.Errorf("the licence must travel with the font: %v", err)
	}
}

// pdfText extracts the text with poppler's pdftotext (Debian
// poppler-utils, installed by .ci/run).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	return strings.Join(pdfPages(t, pdf), "\n")
}

func pdfPages(t *testing.T, pdf []byte) []string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Fatal("pdftotext not found: apt-get install poppler-utils (bash .ci/run installs it)")
	}
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	// pdftotext separates pages with a form feed
	pages := strings.Split(strings.TrimRight(string(out), "\f\n"), "\f")
	for i := range pages {
		pages[i] = squeeze.ReplaceAllString(pages[i], " ")
	}
	return pages
}

// -layout spreads cells with runs of spaces; one space is enough to match.
var squeeze = regexp.MustCompile(` {2,}`)

// BenchmarkInvoice: the cost of one page (font parse, subset, output).
func BenchmarkInvoice(b *testing.B) {
	for b.Loop() {
		if _, err := invoice(3).Bytes(); err != nil {
			b.Fatal(err)
		}
	}
}
