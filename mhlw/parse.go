// Package mhlw reads the open data of 厚生労働省「介護サービス情報公表システム」
// (one CSV per service type, 24 columns) and imports the residential
// facilities in it into the catalog.
//
// The files are messy in known ways, and Parse copes with each: UTF-8 with or
// without BOM, CRLF or LF, full-width digits and hyphens, blank or zero 定員,
// addresses without the prefecture, junk in the URL column, coordinates
// outside Japan, and two rows for one building (従来型 / ユニット型) sharing a
// 事業所番号. A file that is not such a CSV at all is refused as a whole; a
// row that cannot be used is rejected with its line number and reason.
//
// Licence of the data: CC BY 4.0, credit 「出典：厚生労働省 介護サービス情報公表システム」.
package mhlw

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"carematch/area"
	"carematch/facility"

	"golang.org/x/text/width"
)

// Credit is the attribution the licence asks for wherever the data is shown.
const Credit = "出典：厚生労働省 介護サービス情報公表システム"

// Columns is the header of every open-data file, in order.
var Columns = [...]string{
	"都道府県コード又は市町村コード", "No", "都道府県名", "市区町村名", "事業所名", "事業所名カナ",
	"サービスの種類", "住所", "方書（ビル名等）", "緯度", "経度", "電話番号", "FAX番号", "法人番号",
	"法人の名称", "事業所番号", "利用可能曜日", "利用可能曜日特記事項", "定員", "URL",
	"高齢者の方と障害者の方が同時一体的に利用できるサービス", "介護保険の通常の指定基準を満たしている",
	"障害福祉の通常の指定基準を満たしている", "備考",
}

const (
	colMuniCode = iota
	colNo
	colPrefName
	colMuniName
	colName
	colKana
	colService
	colAddress
	colBuilding
	colLat
	colLng
	colPhone
	colFax
	colCorpNumber
	colOperator
	colOfficeNumber
	colDays
	colDaysNote
	colCapacity
	colURL
	numColumns = len(Columns)
)

// maxFileSize bounds what Parse reads into memory. The largest MHLW file
// (訪問介護, all of Japan) is about 30 MB.
const maxFileSize = 256 << 20

// FileError refuses a whole file: nothing of it is imported.
type FileError struct {
	File string
	Line int // 0 when the problem is not on one line
	Msg  string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: %d行目: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Issue is a row that was rejected, or accepted with a correction worth
// knowing (a note).
type Issue struct {
	File         string
	Line         int
	OfficeNumber string // as read, may be empty or malformed
	Reason       string
}

func (i Issue) String() string {
	s := fmt.Sprintf("%s:%d", i.File, i.Line)
	if i.OfficeNumber != "" {
		s += " [" + i.OfficeNumber + "]"
	}
	return s + " " + i.Reason
}

// Record is one facility read from a file, possibly merged from several rows
// with the same 事業所番号.
type Record struct {
	File     string
	Lines    []int  // the file's lines it was read from (the first one first)
	Service  string // サービスの種類 as written in the first row
	Facility facility.Facility
}

// File is the result of parsing one open-data file.
type File struct {
	Name        string // base name of the file
	ServiceCode string // 3-digit service code from the file name ("331"), "" if none
	Rows        int    // data rows read (the header not counted)
	Merged      int    // rows folded into an earlier row with the same 事業所番号
	Records     []Record
	Rejected    []Issue
	Notes       []Issue
}

// ParseFile reads and parses the file at path.
func ParseFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mhlw: %w", err)
	}
	defer f.Close()
	return Parse(filepath.Base(path), f)
}

// ServiceTypes maps the service codes MHLW uses in its file names
// (jigyosho_331.csv) to the facility type they are. Services that are not a
// place to live (訪問介護, 短期入所, …) are absent: their rows are rejected.
var ServiceTypes = map[string]facility.Type{
	"320": facility.GroupHome,    // 認知症対応型共同生活介護
	"331": facility.KaigoYuryo,   // 特定施設入居者生活介護（有料老人ホーム）
	"332": facility.CareHouse,    // 特定施設入居者生活介護（軽費老人ホーム）
	"334": facility.Sakoju,       // 特定施設入居者生活介護（有料老人ホーム（サービス付き高齢者向け住宅））
	"335": facility.KaigoYuryo,   // 特定施設入居者生活介護（有料老人ホーム・外部サービス利用型）
	"336": facility.CareHouse,    // 特定施設入居者生活介護（軽費老人ホーム・外部サービス利用型）
	"337": facility.Sakoju,       // 特定施設入居者生活介護（サ高住・外部サービス利用型）
	"361": facility.KaigoYuryo,   // 地域密着型特定施設入居者生活介護（有料老人ホーム）
	"362": facility.CareHouse,    // 地域密着型特定施設入居者生活介護（軽費老人ホーム）
	"364": facility.Sakoju,       // 地域密着型特定施設入居者生活介護（サ高住）
	"510": facility.Tokuyo,       // 介護老人福祉施設
	"520": facility.Roken,        // 介護老人保健施設
	"540": facility.ChiikiTokuyo, // 地域密着型介護老人福祉施設入所者生活介護
	"550": facility.Iryoin,       // 介護医療院
}

// ServiceType maps the サービスの種類 column to a facility type. It reads the
// words, not one exact spelling, so that files it has never seen (and the
// variants MHLW has used over the years) still map; ok is false for services
// that are not a residence.
func ServiceType(service string) (facility.Type, bool) {
	s := strings.NewReplacer(" ", "", "　", "").Replace(normText(service))
	if strings.Contains(s, "短期入所") || strings.Contains(s, "通所") || strings.Contains(s, "訪問") {
		return "", false
	}
	switch {
	case strings.Contains(s, "認知症対応型共同生活介護"):
		return facility.GroupHome, true
	case strings.Contains(s, "地域密着型介護老人福祉施設"):
		return facility.ChiikiTokuyo, true
	case strings.Contains(s, "介護老人福祉施設"):
		return facility.Tokuyo, true
	case strings.Contains(s, "介護老人保健施設"):
		return facility.Roken, true
	case strings.Contains(s, "介護医療院"):
		return facility.Iryoin, true
	case strings.Contains(s, "特定施設入居者生活介護"):
		switch {
		case strings.Contains(s, "サービス付き高齢者向け住宅"):
			return facility.Sakoju, true
		case strings.Contains(s, "軽費老人ホーム") || strings.Contains(s, "ケアハウス"):
			return facility.CareHouse, true
		case strings.Contains(s, "養護老人ホーム") && !strings.Contains(s, "有料"):
			// 養護老人ホーム is a placement by the municipality (措置), not
			// something a family applies to through us.
			return "", false
		default:
			return facility.KaigoYuryo, true
		}
	}
	return "", false
}

var serviceCodeInName = regexp.MustCompile(`(?:^|[^0-9])([0-9]{3})(?:[^0-9]|$)`)

// Parse reads one open-data file. It returns a *FileError, and nothing
// else, when the file as a whole is unusable.
func Parse(name string, r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, &FileError{File: name, Msg: "読み込めません: " + err.Error()}
	}
	if len(data) > maxFileSize {
		return nil, &FileError{File: name, Msg: fmt.Sprintf("大きすぎます (%d MiB を超えています)", maxFileSize>>20)}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &FileError{File: name, Msg: "空のファイルです"}
	}
	if !utf8.Valid(data) {
		line := 1 + bytes.Count(data[:invalidUTF8At(data)], []byte("\n"))
		return nil, &FileError{File: name, Line: line, Msg: "UTF-8 ではありません (Shift_JIS などの場合は UTF-8 に変換してください)"}
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &FileError{File: name, Msg: "テキストの CSV ではありません (NUL 文字を含みます)"}
	}
	out := &File{Name: name}
	if m := serviceCodeInName.FindStringSubmatch(name); m != nil {
		if _, ok := ServiceTypes[m[1]]; ok {
			out.ServiceCode = m[1]
		}
	}

	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, &FileError{File: name, Line: 1, Msg: "CSV として読めません: " + csvReason(err)}
	}
	if err := checkHeader(header); err != nil {
		return nil, &FileError{File: name, Line: 1, Msg: err.Error()}
	}

	byOffice := map[string]int{} // 事業所番号 → index in out.Records
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			// A broken quote makes every following row boundary uncertain:
			// refuse the file rather than import shifted data.
			l := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				l = pe.StartLine
			}
			return nil, &FileError{File: name, Line: l, Msg: "CSV として読めません: " + csvReason(err)}
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line (csv skips truly empty ones; this is whitespace)
		}
		out.Rows++
		if len(rec) != numColumns {
			out.Rejected = append(out.Rejected, Issue{File: name, Line: line,
				Reason: fmt.Sprintf("列の数が %d です (%d 列のはずです)", len(rec), numColumns)})
			continue
		}
		r, notes, reason := parseRow(name, out.ServiceCode, line, rec)
		if reason != "" {
			out.Rejected = append(out.Rejected, Issue{File: name, Line: line, OfficeNumber: strings.TrimSpace(rec[colOfficeNumber]), Reason: reason})
			continue
		}
		if i, dup := byOffice[r.Facility.OfficeNumber]; dup {
			prev := &out.Records[i]
			if prev.Facility.Type != r.Facility.Type {
				out.Rejected = append(out.Rejected, Issue{File: name, Line: line, OfficeNumber: r.Facility.OfficeNumber,
					Reason: fmt.Sprintf("事業所番号が %d行目と同じで、種類が違います (%s / %s)", prev.Lines[0], prev.Facility.Type.Label(), r.Facility.Type.Label())})
				continue
			}
			merge(prev, r)
			out.Merged++
			out.Notes = append(out.Notes, Issue{File: name, Line: line, OfficeNumber: r.Facility.OfficeNumber,
				Reason: fmt.Sprintf("%d行目と同じ事業所番号の行 (従来型/ユニット型など) をまとめました", prev.Lines[0])})
			continue
		}
		byOffice[r.Facility.OfficeNumber] = len(out.Records)
		out.Records = append(out.Records, r)
		out.Notes = append(out.Notes, notes...)
	}
	if out.Rows == 0 {
		return nil, &FileError{File: name, Msg: "データ行がありません"}
	}
	return out, nil
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func csvReason(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		switch pe.Err {
		case csv.ErrQuote, csv.ErrBareQuote:
			return "引用符 (\") の対応が取れていません"
		}
		return pe.Err.Error()
	}
	return err.Error()
}

func checkHeader(h []string) error {
	if len(h) != numColumns {
		return fmt.Errorf("見出し行の列が %d 個です: 介護サービス情報公表システムのオープンデータ (%d 列) ではありません", len(h), numColumns)
	}
	for i, want := range Columns {
		got := strings.TrimSpace(h[i])
		if got != want && normText(got) != normText(want) {
			return fmt.Errorf("%d 列目の見出しが「%s」です (「%s」のはずです)", i+1, clip(got, 40), want)
		}
	}
	return nil
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// parseRow turns one row into a Record, or says why it cannot.
func parseRow(file, fileService string, line int, rec []string) (r Record, notes []Issue, reason string) {
	note := func(office, msg string) {
		notes = append(notes, Issue{File: file, Line: line, OfficeNumber: office, Reason: msg})
	}
	f := facility.Facility{InitialCost: -1}

	f.OfficeNumber = digitsOnly(rec[colOfficeNumber])
	if len(f.OfficeNumber) != 10 || f.OfficeNumber != strings.ReplaceAll(normText(rec[colOfficeNumber]), " ", "") {
		return r, nil, fmt.Sprintf("事業所番号「%s」が10桁の数字ではありません", clip(strings.TrimSpace(rec[colOfficeNumber]), 20))
	}

	service := strings.TrimSpace(rec[colService])
	if service != "" {
		t, ok := ServiceType(service)
		if !ok {
			return r, nil, fmt.Sprintf("サービスの種類「%s」は取り扱う入居施設の種類ではありません", clip(service, 40))
		}
		f.Type = t
	} else if t, ok := ServiceTypes[fileService]; ok {
		f.Type = t
	} else {
		return r, nil, "サービスの種類が空欄です"
	}

	f.Name = normName(rec[colName])
	if f.Name == "" {
		return r, nil, "事業所名が空欄です"
	}
	f.Kana = normName(rec[colKana])

	// Municipality: the code column, else the prefecture and municipality names.
	prefName := normText(rec[colPrefName])
	muniName := normText(rec[colMuniName])
	muni, ok := area.Muni(digitsOnly(rec[colMuniCode]))
	if ok && muni.Designated {
		ok = false // a file should name the ward; fall back to the names
	}
	if !ok {
		p, pok := area.PrefByName(prefName)
		if pok {
			muni, ok = area.ByName(p.Code, muniName)
		}
	}
	if !ok {
		return r, nil, fmt.Sprintf("市区町村 (コード「%s」, %s%s) が見つかりません", clip(strings.TrimSpace(rec[colMuniCode]), 10), clip(prefName, 10), clip(muniName, 20))
	}
	pref, _ := area.Pref(muni.PrefCode)
	if prefName != "" && prefName != pref.Name {
		return r, nil, fmt.Sprintf("都道府県名「%s」が市区町村コード %s (%s) と合いません", clip(prefName, 10), muni.Code, pref.Name)
	}
	f.PrefCode = muni.PrefCode
	f.MuniCode = muni.Code

	f.Address = fullAddress(pref, muni, muniName, normAddress(rec[colAddress]))
	if f.Address == pref.Name+muni.Name {
		note(f.OfficeNumber, "住所が空欄です")
	}
	f.Building = normAddress(rec[colBuilding])

	lat, errLat := parseFloat(rec[colLat])
	lng, errLng := parseFloat(rec[colLng])
	switch {
	case errLat != nil || errLng != nil || (lat == 0 && lng == 0):
		note(f.OfficeNumber, "緯度経度がないため市区町村役場の位置を使いました")
		lat, lng = muni.Lat, muni.Lng
	case lat < 20 || lat > 46 || lng < 122 || lng > 154:
		note(f.OfficeNumber, fmt.Sprintf("緯度経度 (%s, %s) が日本国外のため市区町村役場の位置を使いました", clip(rec[colLat], 12), clip(rec[colLng], 12)))
		lat, lng = muni.Lat, muni.Lng
	case area.DistanceKm(lat, lng, muni.Lat, muni.Lng) > maxKmFromTownHall:
		note(f.OfficeNumber, fmt.Sprintf("緯度経度が%sの役場から %.0f km 離れているため役場の位置を使いました", muni.Name, area.DistanceKm(lat, lng, muni.Lat, muni.Lng)))
		lat, lng = muni.Lat, muni.Lng
	}
	f.Lat, f.Lng = lat, lng

	f.Phone = normPhone(rec[colPhone])
	f.Fax = normPhone(rec[colFax])
	f.Operator = normName(rec[colOperator])
	if cn := digitsOnly(rec[colCorpNumber]); len(cn) == 13 {
		f.CorporateNumber = cn
	} else if strings.TrimSpace(rec[colCorpNumber]) != "" {
		note(f.OfficeNumber, "法人番号が13桁ではないため空欄にしました")
	}

	if s := normText(rec[colCapacity]); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 10000 {
			note(f.OfficeNumber, fmt.Sprintf("定員「%s」が読めないため不明にしました", clip(s, 10)))
		} else {
			f.Capacity = n // 0 means unknown, as in the file
		}
	}

	if raw := strings.TrimSpace(rec[colURL]); raw != "" {
		if u, ok := cleanURL(raw); ok {
			f.URL = u
		} else {
			note(f.OfficeNumber, fmt.Sprintf("URL「%s」はウェブサイトの URL ではないため捨てました", clip(raw, 40)))
		}
	}

	return Record{File: file, Lines: []int{line}, Service: service, Facility: f}, notes, ""
}

// maxKmFromTownHall is how far a facility may lie from its municipality's
// town hall before its coordinates are taken for a geocoding error. The
// widest municipalities (高山市, 浜松市天竜区, 北海道's) are about 50 km across.
const maxKmFromTownHall = 80

// merge folds a second row of the same 事業所番号 into the first: the first
// row's values win, blanks are filled from the second, and the capacities
// (従来型 + ユニット型) add up.
func merge(into *Record, r Record) {
	into.Lines = append(into.Lines, r.Lines...)
	a, b := &into.Facility, r.Facility
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&a.Kana, b.Kana)
	fill(&a.Operator, b.Operator)
	fill(&a.CorporateNumber, b.CorporateNumber)
	fill(&a.Building, b.Building)
	fill(&a.Phone, b.Phone)
	fill(&a.Fax, b.Fax)
	fill(&a.URL, b.URL)
	a.Capacity += b.Capacity
}

var addressDashes = strings.NewReplacer(
	"\u2010", "-", "\u2011", "-", "\u2012", "-", "\u2013", "-", "\u2014", "-", "\u2015", "-",
	"\u2212", "-", "\uff0d", "-", "\u30fc", "ー", // long vowel kept; see normAddress
)

// normText folds full-width ASCII (digits, letters, symbols) to half width
// and half-width katakana to full width, and trims.
func normText(s string) string {
	return strings.TrimSpace(width.Fold.String(strings.TrimSpace(s)))
}

// normName is normText with runs of spaces (either width) folded to one.
func normName(s string) string {
	return strings.Join(strings.FieldsFunc(normText(s), unicode.IsSpace), " ")
}

// normAddress folds widths and writes every hyphen-like character between
// digits as "-" (addresses mix ‐, －, −, ー).
func normAddress(s string) string {
	s = addressDashes.Replace(normName(s))
	rs := []rune(s)
	for i := 1; i+1 < len(rs); i++ {
		if (rs[i] == 'ー' || rs[i] == '―') && isDigit(rs[i-1]) && isDigit(rs[i+1]) {
			rs[i] = '-'
		}
	}
	return string(rs)
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// fullAddress makes sure the address starts with the prefecture (MHLW
// addresses often start with the municipality, sometimes with the street).
func fullAddress(pref area.Prefecture, muni area.Municipality, fileMuniName, addr string) string {
	if strings.HasPrefix(addr, pref.Name) {
		return addr
	}
	compact := strings.ReplaceAll(addr, " ", "")
	switch {
	case strings.HasPrefix(compact, muni.Name),
		fileMuniName != "" && strings.HasPrefix(compact, strings.ReplaceAll(fileMuniName, " ", "")):
		return pref.Name + addr
	case muni.IsWard() && strings.HasPrefix(compact, muni.Ward):
		// "中央区南8条…" for 札幌市中央区
		parent, _ := area.Muni(muni.Parent)
		return pref.Name + parent.Name + addr
	}
	// "二海郡八雲町…": a district name before the municipality.
	if i := strings.Index(compact, "郡"); i > 0 && strings.HasPrefix(compact[i+len("郡"):], muni.Name) {
		return pref.Name + addr
	}
	return pref.Name + muni.Name + addr
}

func normPhone(s string) string {
	s = addressDashes.Replace(normText(s))
	var b strings.Builder
	for _, r := range s {
		switch {
		case isDigit(r):
			b.WriteRune(r)
		case r == '-' || r == '(' || r == ')':
			if b.Len() > 0 {
				b.WriteByte('-')
			}
		}
	}
	out := strings.Trim(b.String(), "-")
	for strings.Contains(out, "--") {
		out = strings.ReplaceAll(out, "--", "-")
	}
	if n := len(digitsOnly(out)); n < 10 || n > 11 {
		return "" // not a Japanese phone number
	}
	return out
}

func digitsOnly(s string) string {
	s = normText(s)
	for _, r := range s {
		if !isDigit(r) {
			var b strings.Builder
			for _, r := range s {
				if isDigit(r) {
					b.WriteRune(r)
				}
			}
			return b.String()
		}
	}
	return s
}

func parseFloat(s string) (float64, error) {
	s = normText(s)
	if s == "" {
		return 0, errors.New("empty")
	}
	return strconv.ParseFloat(s, 64)
}

var brokenScheme = regexp.MustCompile(`^(?i)(https?)(?:[:;]//?/?|//|[:;])([^/:;].*)$`)

var hostRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

// cleanURL keeps a web address and repairs the usual slips (full-width
// characters, a stray character before "http", a missing scheme); e-mail
// addresses, "なし" and other junk are refused.
func cleanURL(raw string) (string, bool) {
	s := normText(raw)
	if i := strings.Index(strings.ToLower(s), "http"); i > 0 && i <= 3 {
		s = s[i:] // ":https://…"
	}
	if strings.ContainsAny(s, " \t") {
		return "", false
	}
	if m := brokenScheme.FindStringSubmatch(s); m != nil {
		s = strings.ToLower(m[1]) + "://" + m[2] // http//x, https:x, http:/x, https:///x
	}
	lower := strings.ToLower(s)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		if strings.Contains(s, "://") || strings.Contains(s, "@") {
			return "", false // hhh://…, e-mail addresses
		}
		s = "http://" + s // "www.example.jp/…"
	}
	u, err := url.Parse(s)
	if err != nil || u.User != nil || u.Host == "" || u.Port() != "" || !hostRE.MatchString(strings.ToLower(u.Hostname())) {
		return "", false
	}
	tld := u.Hostname()[strings.LastIndex(u.Hostname(), ".")+1:]
	if len(tld) < 2 || isAllDigits(tld) {
		return "", false
	}
	return u.String(), true
}

func isAllDigits(s string) bool {
	for _, r := range s {
		if !isDigit(r) {
			return false
		}
	}
	return s != ""
}
