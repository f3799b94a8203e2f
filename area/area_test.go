package area

import (
	"math"
	"os"
	"strings"
	"testing"
)

func TestPrefectures(t *testing.T) {
	ps := Prefectures()
	if len(ps) != 47 {
		t.Fatalf("got %d prefectures, want 47", len(ps))
	}
	for i, p := range ps {
		if p.Code != i+1 || p.Name == "" || p.Kana == "" || p.Short == "" {
			t.Errorf("prefecture %d incomplete: %+v", i+1, p)
		}
	}
	tokyo, ok := Pref(13)
	if !ok || tokyo.Name != "東京都" || tokyo.Short != "東京" || tokyo.Kana != "とうきょうと" {
		t.Errorf("Pref(13) = %+v, %v", tokyo, ok)
	}
	if math.Abs(tokyo.Lat-35.69) > 0.05 || math.Abs(tokyo.Lng-139.69) > 0.05 {
		t.Errorf("Tokyo office at %v,%v", tokyo.Lat, tokyo.Lng)
	}
	for _, c := range []int{0, 48, -1} {
		if _, ok := Pref(c); ok {
			t.Errorf("Pref(%d) found", c)
		}
	}
	if p, ok := PrefByName("北海道"); !ok || p.Code != 1 {
		t.Errorf("PrefByName(北海道) = %+v, %v", p, ok)
	}
	if p, ok := PrefByName("大阪"); !ok || p.Code != 27 {
		t.Errorf("PrefByName(大阪) = %+v, %v", p, ok)
	}
}

func TestCheckDigitAgainstMaster(t *testing.T) {
	// Every code in the master carries a valid check digit (load verifies it;
	// this pins the algorithm on known values too).
	for code5, want := range map[string]int{"01100": 2, "01101": 1, "13101": 6, "28100": 0, "47201": 8, "22138": 4} {
		if got := CheckDigit(code5); got != want {
			t.Errorf("CheckDigit(%s) = %d, want %d", code5, got, want)
		}
	}
	for _, bad := range []string{"", "1310", "131016", "1310a"} {
		if got := CheckDigit(bad); got != -1 {
			t.Errorf("CheckDigit(%q) = %d, want -1", bad, got)
		}
	}
	if ValidCode("131017") || !ValidCode("131016") {
		t.Error("ValidCode does not check the digit")
	}
	if c, ok := Code6("13101"); !ok || c != "131016" {
		t.Errorf("Code6(13101) = %q, %v", c, ok)
	}
}

func TestMuni(t *testing.T) {
	for _, code := range []string{"131016", "13101", " 131016 "} {
		m, ok := Muni(code)
		if !ok || m.Name != "千代田区" || m.Code != "131016" || m.Code5 != "13101" || m.PrefCode != 13 {
			t.Errorf("Muni(%q) = %+v, %v", code, m, ok)
		}
	}
	// 4 digits: Hokkaido code that lost its leading zero.
	if m, ok := Muni("1101"); !ok || m.Name != "札幌市中央区" {
		t.Errorf("Muni(1101) = %+v, %v", m, ok)
	}
	for _, bad := range []string{"131017", "99999", "", "abcdef", "1310161", "00000"} {
		if m, ok := Muni(bad); ok {
			t.Errorf("Muni(%q) = %+v, want not found", bad, m)
		}
	}
	ward, ok := Muni("011011")
	if !ok || ward.Name != "札幌市中央区" || ward.Ward != "中央区" || ward.Parent != "011002" || !ward.IsWard() || ward.Kana != "さっぽろしちゅうおうく" {
		t.Errorf("Muni(011011) = %+v, %v", ward, ok)
	}
	city, ok := Muni("011002")
	if !ok || !city.Designated || city.IsWard() || city.Name != "札幌市" {
		t.Errorf("Muni(011002) = %+v, %v", city, ok)
	}
	// 倶知安町 has a code ending in 00 but is not a designated city.
	if m, ok := Muni("014001"); !ok || m.Designated || m.Name != "倶知安町" {
		t.Errorf("Muni(014001) = %+v, %v", m, ok)
	}
	// 浜松市's 2024 wards are there, and the old codes resolve to them.
	if m, ok := Muni("221384"); !ok || m.Name != "浜松市中央区" || m.Parent != "221309" {
		t.Errorf("Muni(221384) = %+v, %v", m, ok)
	}
	if m, ok := Muni("221317"); !ok || m.Code != "221384" {
		t.Errorf("old 浜松市中区 221317 resolves to %+v, %v", m, ok)
	}
}

func TestDesignatedCities(t *testing.T) {
	var cities []string
	for _, m := range All() {
		if m.Designated {
			cities = append(cities, m.Name)
			if len(Wards(m.Code)) < 2 {
				t.Errorf("%s has %d wards", m.Name, len(Wards(m.Code)))
			}
		}
		if m.IsWard() {
			p, ok := Muni(m.Parent)
			if !ok || !p.Designated || !strings.HasPrefix(m.Name, p.Name) || m.PrefCode != p.PrefCode {
				t.Errorf("ward %s has parent %+v", m.Name, p)
			}
		}
	}
	if len(cities) != 20 {
		t.Errorf("%d designated cities, want 20: %v", len(cities), cities)
	}
	if w := Wards("131016"); w != nil {
		t.Errorf("Wards(千代田区) = %v", w)
	}
	if n := len(Wards("141003")); n != 18 {
		t.Errorf("横浜市 has %d wards, want 18", n)
	}
	if n := len(Wards("221309")); n != 3 {
		t.Errorf("浜松市 has %d wards, want 3 (since 2024)", n)
	}
}

func TestMunisOf(t *testing.T) {
	total := 0
	for _, p := range Prefectures() {
		ms := MunisOf(p.Code)
		if len(ms) == 0 {
			t.Errorf("%s has no municipalities", p.Name)
		}
		for i, m := range ms {
			if m.PrefCode != p.Code {
				t.Errorf("%s listed under %s", m.Name, p.Name)
			}
			if i > 0 && ms[i-1].Code >= m.Code {
				t.Errorf("%s: not in code order at %s", p.Name, m.Code)
			}
		}
		total += len(ms)
	}
	if total != len(All()) || total < 1900 {
		t.Errorf("total %d municipalities, All() %d", total, len(All()))
	}
	if n := len(MunisOf(13)); n != 62 {
		t.Errorf("東京都 has %d municipalities, want 62", n)
	}
	if MunisOf(0) != nil || MunisOf(48) != nil {
		t.Error("MunisOf out of range returned something")
	}
}

func TestByName(t *testing.T) {
	cases := []struct {
		pref int
		name string
		want string
	}{
		{1, "札幌市中央区", "011011"},
		{1, "札幌市 中央区", "011011"},
		{1, "札幌市　中央区", "011011"},
		{1, "札幌市", "011002"},
		{1, "伊達市", "012335"},
		{7, "伊達市", "072133"},
		{8, "龍ヶ崎市", "082082"},
		{8, "龍ケ崎市", "082082"},
		{1, "雨竜郡秩父別町", "014346"},
		{7, "郡山市", "072036"},
		{29, "大和郡山市", "292036"},
		{22, "浜松市中央区", "221384"},
		{13, "千代田区", "131016"},
	}
	for _, c := range cases {
		m, ok := ByName(c.pref, c.name)
		if !ok || m.Code != c.want {
			t.Errorf("ByName(%d, %q) = %s %s, %v; want %s", c.pref, c.name, m.Code, m.Name, ok, c.want)
		}
	}
	for _, c := range []struct {
		pref int
		name string
	}{{13, "札幌市"}, {1, "中央区"}, {0, "千代田区"}, {13, ""}, {13, "郡"}} {
		if m, ok := ByName(c.pref, c.name); ok {
			t.Errorf("ByName(%d, %q) = %+v, want not found", c.pref, c.name, m)
		}
	}
}

func TestDistanceKm(t *testing.T) {
	// Tokyo Station → Shin-Osaka: about 400 km as the crow flies.
	d := DistanceKm(35.6812, 139.7671, 34.7334, 135.5001)
	if d < 395 || d > 405 {
		t.Errorf("Tokyo–Shin-Osaka %v km", d)
	}
	if d := DistanceKm(35, 139, 35, 139); d != 0 {
		t.Errorf("distance to itself %v", d)
	}
	// One degree of latitude ≈ 111.2 km.
	if d := DistanceKm(35, 139, 36, 139); math.Abs(d-111.2) > 0.2 {
		t.Errorf("one degree of latitude = %v km", d)
	}
	if a, b := DistanceKm(26.2, 127.7, 43.1, 141.3), DistanceKm(43.1, 141.3, 26.2, 127.7); a != b {
		t.Errorf("not symmetric: %v vs %v", a, b)
	}
}

func TestWithin(t *testing.T) {
	chiyoda, _ := Muni("131016")
	near := Within(chiyoda.Lat, chiyoda.Lng, 5)
	if len(near) < 5 || near[0].Code != "131016" || near[0].Km != 0 {
		t.Fatalf("Within 5 km of 千代田区: %v", near)
	}
	for i, n := range near {
		if n.Km > 5 || (i > 0 && near[i-1].Km > n.Km) {
			t.Errorf("bad order or distance at %d: %+v", i, n)
		}
		if n.PrefCode != 13 && n.PrefCode != 11 && n.PrefCode != 12 {
			t.Errorf("%s is not near 千代田区", n.Name)
		}
	}
	sapporo, _ := Muni("011002")
	for _, n := range Within(sapporo.Lat, sapporo.Lng, 3) {
		if n.Designated {
			t.Errorf("Within returned designated-city parent %s", n.Name)
		}
	}
	if got := Within(30, 150, 50); len(got) != 0 {
		t.Errorf("Within the Pacific: %v", got)
	}
}

func TestLoadRejectsBadData(t *testing.T) {
	prefs, err := os.ReadFile("data/prefectures.csv")
	if err != nil {
		t.Fatal(err)
	}
	hdr := "lgcode,pref,name,kana,lat,lng\n"
	for name, data := range map[string]string{
		"bad check digit": hdr + "131017,13,千代田区,ちよだく,35.69,139.75\n",
		"pref mismatch":   hdr + "131016,14,千代田区,ちよだく,35.69,139.75\n",
		"bad coordinates": hdr + "131016,13,千代田区,ちよだく,0,0\n",
		"orphan ward":     hdr + "011011,1,札幌市 中央区,さっぽろし ちゅうおうく,43.05,141.34\n",
		"wrong columns":   hdr + "131016,13,千代田区\n",
	} {
		if _, err := load(prefs, []byte(data)); err == nil {
			t.Errorf("%s: loaded without error", name)
		}
	}
	if _, err := load(prefs, []byte(hdr+"131016,13,千代田区,ちよだく,35.69,139.75\n")); err != nil {
		t.Errorf("minimal master: %v", err)
	}
}
