package mhlw

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"carematch/area"
	"carematch/facility"
)

const header = "都道府県コード又は市町村コード,No,都道府県名,市区町村名,事業所名,事業所名カナ,サービスの種類,住所,方書（ビル名等）,緯度,経度,電話番号,FAX番号,法人番号,法人の名称,事業所番号,利用可能曜日,利用可能曜日特記事項,定員,URL,高齢者の方と障害者の方が同時一体的に利用できるサービス,介護保険の通常の指定基準を満たしている,障害福祉の通常の指定基準を満たしている,備考"

// row builds a data row from the fields that matter, the rest empty.
func row(muni, pref, city, name, service, addr, lat, lng, phone, office, capacity, url string) string {
	f := make([]string, 24)
	f[colMuniCode], f[colNo], f[colPrefName], f[colMuniName] = muni, office, pref, city
	f[colName], f[colKana], f[colService], f[colAddress] = name, "テスト", service, addr
	f[colLat], f[colLng], f[colPhone], f[colOfficeNumber] = lat, lng, phone, office
	f[colCapacity], f[colURL], f[colOperator], f[colCorpNumber] = capacity, url, "社会福祉法人テスト会", "1234567890123"
	return strings.Join(f, ",")
}

const kaigo = "特定施設入居者生活介護（有料老人ホーム）"

func parseString(t *testing.T, name, s string) *File {
	t.Helper()
	f, err := Parse(name, strings.NewReader(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

func TestParseQuirks(t *testing.T) {
	rows := []string{
		// 2: full-width digits and hyphens, address without prefecture, e-mail as URL, blank 定員
		row("011011", "北海道", "札幌市中央区", "ホーム　Ａ", kaigo, "札幌市中央区南１条西２丁目３－４", "43.05", "141.34", "０１１－２２２‐３３３３", "０１７０１０００１１", "", "info@example.jp"),
		// 3: address without prefecture nor municipality; zero 定員; URL without scheme
		row("011011", "北海道", "札幌市中央区", "ホームB", kaigo, "南8条西26丁目1-2", "43.04", "141.32", "011-111-1111", "0170100022", "0", "www.example.jp/home/"),
		// 4, 5: 従来型 and ユニット型 rows of one 特養
		row("012041", "北海道", "旭川市", "特養たいせつ", "介護老人福祉施設", "北海道旭川市東鷹栖2線18号", "43.84", "142.44", "0166-58-3333", "0172900771", "50", "http//www.example.jp"),
		row("012041", "北海道", "旭川市", "ユニット型特養たいせつ", "介護老人福祉施設", "北海道旭川市東鷹栖2線18号", "43.84", "142.44", "", "0172900771", "30", "https://www.example.jp/"),
		// 6: coordinates in Ireland; the code of the municipality is blank (names are used)
		row("", "埼玉県", "川口市", "ベストライフ", kaigo, "埼玉県川口市三ツ和1-29-32", "53.41291", "-8.24389", "048-288-7011", "1170207946", "60", ""),
		// 7: a service that is not a residence
		row("131016", "東京都", "千代田区", "訪問介護ステーション", "訪問介護", "東京都千代田区1-1", "35.69", "139.75", "03-1111-1111", "1370000001", "", ""),
		// 8: office number not 10 digits
		row("131016", "東京都", "千代田区", "ホームC", kaigo, "東京都千代田区1-1", "35.69", "139.75", "03-1111-1111", "13700", "", ""),
		// 9: unknown municipality
		row("999999", "東京都", "どこか市", "ホームD", kaigo, "東京都どこか市1-1", "35.69", "139.75", "03-1111-1111", "1370000003", "", ""),
		// 10: 郡 in the address, 龍ヶ崎 spelled differently from the master
		row("082082", "茨城県", "龍ヶ崎市", "ホームE", "地域密着型介護老人福祉施設", "龍ヶ崎市1-1", "35.91", "140.18", "0297-11-1111", "0870000004", "29", ""),
		row("014346", "北海道", "秩父別町", "ホームF", "認知症対応型共同生活介護", "雨竜郡秩父別町1542番地1", "43.76", "141.96", "0164-33-3737", "0177400488", "18", ""),
	}
	f := parseString(t, "jigyosho_331.csv", "\ufeff"+header+"\r\n"+strings.Join(rows, "\r\n")+"\r\n")
	if f.ServiceCode != "331" || f.Rows != 10 || f.Merged != 1 || len(f.Records) != 6 || len(f.Rejected) != 3 {
		t.Fatalf("rows %d merged %d records %d rejected %v", f.Rows, f.Merged, len(f.Records), f.Rejected)
	}
	if got := f.Rows; got != len(f.Records)+f.Merged+len(f.Rejected) {
		t.Errorf("rows %d do not add up", got)
	}
	wantRejected := map[int]string{7: "訪問介護", 8: "10桁", 9: "市区町村"}
	for _, r := range f.Rejected {
		if w, ok := wantRejected[r.Line]; !ok || !strings.Contains(r.Reason, w) {
			t.Errorf("rejected line %d: %q (want line in %v)", r.Line, r.Reason, wantRejected)
		}
	}
	by := map[string]Record{}
	for _, r := range f.Records {
		by[r.Facility.OfficeNumber] = r
	}
	a := by["0170100011"].Facility
	if a.Name != "ホーム Ａ" && a.Name != "ホーム A" {
		t.Errorf("name %q", a.Name)
	}
	if a.Address != "北海道札幌市中央区南1条西2丁目3-4" || a.Phone != "011-222-3333" || a.URL != "" || a.Capacity != 0 ||
		a.Type != facility.KaigoYuryo || a.PrefCode != 1 || a.MuniCode != "011011" || a.InitialCost != -1 {
		t.Errorf("row 2: %+v", a)
	}
	b := by["0170100022"].Facility
	if b.Address != "北海道札幌市中央区南8条西26丁目1-2" || b.URL != "http://www.example.jp/home/" || b.Capacity != 0 {
		t.Errorf("row 3: %q %q %d", b.Address, b.URL, b.Capacity)
	}
	c := by["0172900771"]
	if c.Facility.Type != facility.Tokuyo || c.Facility.Capacity != 80 || c.Facility.Name != "特養たいせつ" ||
		c.Facility.URL != "http://www.example.jp" || len(c.Lines) != 2 || c.Lines[0] != 4 || c.Lines[1] != 5 {
		t.Errorf("merged rows: %+v lines %v", c.Facility, c.Lines)
	}
	d := by["1170207946"].Facility
	if d.MuniCode != "112038" || d.Lat < 35 || d.Lat > 36 || d.Lng < 139 || d.Lng > 140 {
		t.Errorf("coordinates outside Japan not replaced: %s %v,%v", d.MuniCode, d.Lat, d.Lng)
	}
	e := by["0870000004"].Facility
	if e.Type != facility.ChiikiTokuyo || e.Address != "茨城県龍ヶ崎市1-1" || e.MuniCode != "082082" {
		t.Errorf("row 10: %+v", e)
	}
	g := by["0177400488"].Facility
	if g.Type != facility.GroupHome || g.Address != "北海道雨竜郡秩父別町1542番地1" {
		t.Errorf("row 11: %q %q", g.Type, g.Address)
	}
	var notes []string
	for _, n := range f.Notes {
		notes = append(notes, n.String())
	}
	joined := strings.Join(notes, "\n")
	for _, want := range []string{":2 [0170100011] URL「info@example.jp」", ":5 [0172900771] 4行目と同じ事業所番号", ":6 [1170207946] 緯度経度"} {
		if !strings.Contains(joined, want) {
			t.Errorf("notes lack %q:\n%s", want, joined)
		}
	}
}

func TestParseLFAndNoBOMMatchesCRLFWithBOM(t *testing.T) {
	body := header + "\n" + row("131016", "東京都", "千代田区", "ホーム", kaigo, "千代田区1-1", "35.69", "139.75", "03-1111-1111", "1370000001", "10", "") + "\n"
	lf := parseString(t, "a.csv", body)
	crlf := parseString(t, "a.csv", "\ufeff"+strings.ReplaceAll(body, "\n", "\r\n"))
	if len(lf.Records) != 1 || len(crlf.Records) != 1 {
		t.Fatalf("records %d / %d", len(lf.Records), len(crlf.Records))
	}
	if !reflect.DeepEqual(lf.Records[0].Facility, crlf.Records[0].Facility) {
		t.Errorf("LF %+v\nCRLF %+v", lf.Records[0].Facility, crlf.Records[0].Facility)
	}
}

func TestParseRefusesMalformedFiles(t *testing.T) {
	good := row("131016", "東京都", "千代田区", "ホーム", kaigo, "千代田区1-1", "35.69", "139.75", "03-1111-1111", "1370000001", "10", "")
	sjis := []byte(header + "\n")
	sjis = append(sjis, 0x82, 0xa0, 0x82, 0xa2, '\n') // あい in Shift_JIS
	cases := map[string]struct {
		data string
		want string
	}{
		"empty":          {"", "空"},
		"header only":    {header + "\n", "データ行"},
		"not csv":        {"%PDF-1.4\n%âãÏÓ\n", "見出し"},
		"wrong header":   {strings.Replace(header, "事業所番号", "事業者番号", 1) + "\n" + good + "\n", "16 列目"},
		"fewer columns":  {"a,b,c\n1,2,3\n", "列が 3 個"},
		"shift_jis":      {string(sjis), "UTF-8"},
		"broken quoting": {header + "\n" + good + "\n" + strings.Replace(good, "ホーム", "\"ホーム", 1) + "\n" + good + "\n", "引用符"},
		"binary":         {"\x00\x01\x02", "NUL"},
	}
	for name, c := range cases {
		f, err := Parse("x.csv", strings.NewReader(c.data))
		var fe *FileError
		if err == nil || !errors.As(err, &fe) {
			t.Errorf("%s: got %v, %v; want a FileError", name, f, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %q does not mention %q", name, err, c.want)
		}
	}
}

func TestParseRowWithWrongColumnCountIsRejected(t *testing.T) {
	good := row("131016", "東京都", "千代田区", "ホーム", kaigo, "千代田区1-1", "35.69", "139.75", "03-1111-1111", "1370000001", "10", "")
	f := parseString(t, "x.csv", header+"\n"+good+"\n1,2,3\n")
	if len(f.Records) != 1 || len(f.Rejected) != 1 || f.Rejected[0].Line != 3 || !strings.Contains(f.Rejected[0].Reason, "列の数") {
		t.Errorf("records %d rejected %+v", len(f.Records), f.Rejected)
	}
}

func TestServiceType(t *testing.T) {
	cases := map[string]facility.Type{
		"特定施設入居者生活介護（有料老人ホーム）":                facility.KaigoYuryo,
		"特定施設入居者生活介護（有料老人ホーム（サービス付き高齢者向け住宅））": facility.Sakoju,
		"特定施設入居者生活介護（軽費老人ホーム）":                facility.CareHouse,
		"地域密着型特定施設入居者生活介護（有料老人ホーム）":           facility.KaigoYuryo,
		"介護老人福祉施設":             facility.Tokuyo,
		"地域密着型介護老人福祉施設入所者生活介護": facility.ChiikiTokuyo,
		"介護老人保健施設":             facility.Roken,
		"介護医療院":                facility.Iryoin,
		"認知症対応型共同生活介護":         facility.GroupHome,
		"介護予防認知症対応型共同生活介護":     facility.GroupHome,
		"特定施設入居者生活介護(有料老人ホーム)": facility.KaigoYuryo, // half-width parentheses
		"特定施設入居者生活介護（有料老人ホーム・外部サービス利用型）": facility.KaigoYuryo,
	}
	for s, want := range cases {
		if got, ok := ServiceType(s); !ok || got != want {
			t.Errorf("ServiceType(%s) = %q, %v; want %q", s, got, ok, want)
		}
	}
	for _, s := range []string{"訪問介護", "短期入所療養介護（介護老人保健施設）", "短期入所生活介護", "通所介護", "", "居宅介護支援", "特定施設入居者生活介護（養護老人ホーム）"} {
		if got, ok := ServiceType(s); ok {
			t.Errorf("ServiceType(%s) = %q, want not a residence", s, got)
		}
	}
	for code, want := range map[string]facility.Type{"331": facility.KaigoYuryo, "334": facility.Sakoju, "510": facility.Tokuyo,
		"540": facility.ChiikiTokuyo, "520": facility.Roken, "550": facility.Iryoin, "320": facility.GroupHome, "332": facility.CareHouse} {
		if ServiceTypes[code] != want {
			t.Errorf("ServiceTypes[%s] = %q, want %q", code, ServiceTypes[code], want)
		}
	}
}

func TestBlankServiceUsesFileCode(t *testing.T) {
	r := row("131016", "東京都", "千代田区", "ホーム", "", "千代田区1-1", "35.69", "139.75", "03-1111-1111", "1370000001", "10", "")
	f := parseString(t, "jigyosho_520.csv", header+"\n"+r+"\n")
	if len(f.Records) != 1 || f.Records[0].Facility.Type != facility.Roken {
		t.Errorf("records %+v rejected %+v", f.Records, f.Rejected)
	}
	f = parseString(t, "facilities.csv", header+"\n"+r+"\n")
	if len(f.Rejected) != 1 || !strings.Contains(f.Rejected[0].Reason, "サービスの種類") {
		t.Errorf("no service and no file code: %+v", f.Rejected)
	}
}

func TestCleanURL(t *testing.T) {
	ok := map[string]string{
		"http://www.example.jp/": "http://www.example.jp/",
		"ｈｔｔｐ：／／ｗｗｗ．ｅｘａｍｐｌｅ．ｊｐ／": "http://www.example.jp/",
		":https://nihonfukushi.org": "https://nihonfukushi.org",
		"www.sinwakai.or.jp":        "http://www.sinwakai.or.jp",
		"http//www.example.jp":      "http://www.example.jp",
		"https:www.example.jp/a":    "https://www.example.jp/a",
		"http;//www.example.jp":     "http://www.example.jp",
		"HTTPS://Example.JP/Path":   "https://Example.JP/Path",
	}
	for in, want := range ok {
		if got, good := cleanURL(in); !good || got != want {
			t.Errorf("cleanURL(%q) = %q, %v; want %q", in, got, good, want)
		}
	}
	for _, in := range []string{"なし", "info@example.jp", "hhh://www.example.jp/", "http://www/example.com", "http://", "http://user@example.jp",
		"http://.example.jp", "-", "http://example", "javascript:alert(1)", "http://1.2.3.4/", "ftp://example.jp/"} {
		if got, good := cleanURL(in); good {
			t.Errorf("cleanURL(%q) = %q, want dropped", in, got)
		}
	}
}

func TestParseRealFiles(t *testing.T) {
	// The project's copies of real MHLW files (shared data, read-only).
	for _, c := range []struct {
		name                 string
		rows, records, merge int
		typ                  facility.Type
	}{
		{"jigyosho_331.csv", 4467, 4467, 0, facility.KaigoYuryo},
		{"jigyosho_334.csv", 617, 617, 0, facility.Sakoju},
		{"jigyosho_510_head.csv", 269, 268, 1, facility.Tokuyo},
	} {
		path := realDataDir(t) + "/" + c.name
		f, err := ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if f.Rows != c.rows || len(f.Records) != c.records || f.Merged != c.merge || len(f.Rejected) != 0 {
			t.Errorf("%s: rows %d records %d merged %d rejected %v", c.name, f.Rows, len(f.Records), f.Merged, f.Rejected)
		}
		prefs := map[int]bool{}
		for _, r := range f.Records {
			fa := r.Facility
			prefs[fa.PrefCode] = true
			if fa.Type != c.typ || len(fa.OfficeNumber) != 10 || fa.Lat < 20 || fa.Lat > 46 || fa.Lng < 122 || fa.Lng > 154 {
				t.Errorf("%s:%d bad facility %s %s %v,%v", c.name, r.Lines[0], fa.Type, fa.OfficeNumber, fa.Lat, fa.Lng)
			}
			if p, _ := area.Pref(fa.PrefCode); !strings.HasPrefix(fa.Address, p.Name) {
				t.Errorf("%s:%d address without prefecture: %q", c.name, r.Lines[0], fa.Address)
			}
			if strings.ContainsAny(fa.Phone+fa.Address, "０１２３４５６７８９－") {
				t.Errorf("%s:%d full-width left: %q %q", c.name, r.Lines[0], fa.Phone, fa.Address)
			}
			if fa.URL != "" && !strings.HasPrefix(fa.URL, "http") {
				t.Errorf("%s:%d URL %q", c.name, r.Lines[0], fa.URL)
			}
		}
		if c.name == "jigyosho_331.csv" && len(prefs) != 47 {
			t.Errorf("331 covers %d prefectures, want 47", len(prefs))
		}
	}
}

func realDataDir(t *testing.T) string {
	for _, d := range []string{"../../shared/data/mhlw", "/work/shared/data/mhlw"} {
		if _, err := os.Stat(d + "/jigyosho_331.csv"); err == nil {
			return d
		}
	}
	t.Fatal("the MHLW open-data copies (shared/data/mhlw) are not beside the repository")
	return ""
}
