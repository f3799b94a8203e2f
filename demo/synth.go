package demo

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"carematch/area"
	"carematch/facility"
)

//go:embed data/facility_counts.csv
var countsCSV []byte

// typeMix is the share of each type among synthetic facilities, after the
// national counts (MHLW 介護サービス施設・事業所調査 and 有料老人ホーム/サ高住 registries,
// rounded): the real 介護付き有料 come from the open data, so they are not
// synthesised.
var typeMix = []struct {
	t facility.Type
	w float64
}{
	{facility.JutakuYuryo, 17000},
	{facility.GroupHome, 14000},
	{facility.Tokuyo, 8200},
	{facility.Sakoju, 7400},
	{facility.Roken, 4200},
	{facility.ChiikiTokuyo, 2500},
	{facility.CareHouse, 2000},
	{facility.Iryoin, 900},
}

// placeTable is where synthetic facilities go: every municipality (wards,
// not their designated city) weighted by the real facilities it has plus a
// base weight, so that cities are dense and no village is left empty.
type placeTable struct {
	munis []area.Municipality
	cum   []float64 // cumulative weights
	types []float64 // cumulative type weights
}

var (
	placesOnce sync.Once
	places     *placeTable
)

func getPlaces() *placeTable {
	placesOnce.Do(func() {
		counts := map[string]float64{}
		rows, err := csv.NewReader(bytes.NewReader(countsCSV)).ReadAll()
		if err != nil {
			panic("demo: embedded facility counts: " + err.Error())
		}
		for _, r := range rows[1:] {
			n, _ := strconv.ParseFloat(r[1], 64)
			if m, ok := area.Muni(r[0]); ok {
				counts[m.Code] += n
			}
		}
		pt := &placeTable{}
		sum := 0.0
		for _, m := range area.All() {
			if m.Designated {
				continue
			}
			// Base 0.4: a municipality without any 特定施設 still has a
			// グループホーム or a 特養 or two.
			sum += counts[m.Code] + 0.4
			pt.munis = append(pt.munis, m)
			pt.cum = append(pt.cum, sum)
		}
		tsum := 0.0
		for _, tm := range typeMix {
			tsum += tm.w
			pt.types = append(pt.types, tsum)
		}
		places = pt
	})
	return places
}

func (pt *placeTable) muni(r *rand.Rand) area.Municipality {
	x := r.Float64() * pt.cum[len(pt.cum)-1]
	return pt.munis[sort.SearchFloat64s(pt.cum, x)]
}

func (pt *placeTable) typ(r *rand.Rand) facility.Type {
	x := r.Float64() * pt.types[len(pt.types)-1]
	return typeMix[sort.SearchFloat64s(pt.types, x)].t
}

// Synthesize makes n synthetic facilities (see SynthesizeAt), with vacancy
// confirmations relative to Reference.
func Synthesize(n int, seed int64) []facility.Facility {
	return SynthesizeAt(n, seed, Reference)
}

// SynthesizeAt makes n synthetic facilities of the types the open data
// lacks, placed around real municipalities in proportion to where real
// facilities are, with plausible names and addresses, no 事業所番号 and no
// phone number (they are not real places), filled as by FillAt and marked
// Demo. The same n, seed and now give the same facilities; facility i does
// not depend on n, so a larger n extends a smaller one. 600,000 take about
// a second on two cores.
func SynthesizeAt(n int, seed int64, now time.Time) []facility.Facility {
	if n <= 0 {
		return nil
	}
	pt := getPlaces()
	out := make([]facility.Facility, n)
	workers := runtime.GOMAXPROCS(0)
	chunk := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min(n, (w+1)*chunk)
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				s := uint64(seed)*0x9e3779b97f4a7c15 ^ uint64(i)
				r := rand.New(rand.NewPCG(s, uint64(i)+0x632be59bd9b4e019))
				synthOne(r, pt, &out[i], i, now)
			}
		}()
	}
	wg.Wait()
	return out
}

// Words for names: an everyday word with its reading.
var nameWords = []struct{ w, k string }{
	{"さくら", "サクラ"}, {"ひまわり", "ヒマワリ"}, {"やすらぎ", "ヤスラギ"}, {"ほほえみ", "ホホエミ"},
	{"あおば", "アオバ"}, {"つばき", "ツバキ"}, {"なごみ", "ナゴミ"}, {"ひだまり", "ヒダマリ"},
	{"すみれ", "スミレ"}, {"こもれび", "コモレビ"}, {"ふれあい", "フレアイ"}, {"あさひ", "アサヒ"},
	{"みどり", "ミドリ"}, {"わかば", "ワカバ"}, {"かえで", "カエデ"}, {"せせらぎ", "セセラギ"},
	{"いこい", "イコイ"}, {"ゆうゆう", "ユウユウ"}, {"はなみずき", "ハナミズキ"}, {"あじさい", "アジサイ"},
	{"こすもす", "コスモス"}, {"たんぽぽ", "タンポポ"}, {"もみじ", "モミジ"}, {"あかり", "アカリ"},
	{"ぬくもり", "ヌクモリ"}, {"まごころ", "マゴコロ"}, {"えがお", "エガオ"}, {"はるかぜ", "ハルカゼ"},
	{"そよかぜ", "ソヨカゼ"}, {"やまびこ", "ヤマビコ"}, {"しおさい", "シオサイ"}, {"つくし", "ツクシ"},
	{"ききょう", "キキョウ"}, {"なでしこ", "ナデシコ"}, {"ゆうあい", "ユウアイ"}, {"きずな", "キズナ"},
	{"オリーブ", "オリーブ"}, {"グリーンヒル", "グリーンヒル"}, {"サンライズ", "サンライズ"},
	{"ハーモニー", "ハーモニー"}, {"レインボー", "レインボー"}, {"フォレスト", "フォレスト"},
	{"ケアガーデン", "ケアガーデン"}, {"シルバーヴィラ", "シルバーヴィラ"}, {"ラ・ポルテ", "ラポルテ"},
}

var typeNames = map[facility.Type][]struct{ w, k string }{
	facility.JutakuYuryo:  {{"住宅型有料老人ホーム", "ジュウタクガタユウリョウロウジンホーム"}, {"有料老人ホーム", "ユウリョウロウジンホーム"}, {"ホームケア", "ホームケア"}},
	facility.Sakoju:       {{"サービス付き高齢者向け住宅", "サービスツキコウレイシャムケジュウタク"}, {"サ高住", "サコウジュウ"}, {"シニアレジデンス", "シニアレジデンス"}},
	facility.GroupHome:    {{"グループホーム", "グループホーム"}, {"認知症対応型グループホーム", "ニンチショウタイオウガタグループホーム"}},
	facility.Tokuyo:       {{"特別養護老人ホーム", "トクベツヨウゴロウジンホーム"}},
	facility.ChiikiTokuyo: {{"地域密着型特別養護老人ホーム", "チイキミッチャクガタトクベツヨウゴロウジンホーム"}},
	facility.Roken:        {{"介護老人保健施設", "カイゴロウジンホケンシセツ"}},
	facility.Iryoin:       {{"介護医療院", "カイゴイリョウイン"}},
	facility.CareHouse:    {{"ケアハウス", "ケアハウス"}},
	facility.KaigoYuryo:   {{"介護付き有料老人ホーム", "カイゴツキユウリョウロウジンホーム"}},
}

var operators = []struct{ w, k string }{
	{"株式会社", "カブシキガイシャ"}, {"社会福祉法人", "シャカイフクシホウジン"}, {"医療法人社団", "イリョウホウジンシャダン"},
	{"有限会社", "ユウゲンガイシャ"}, {"合同会社", "ゴウドウガイシャ"},
}

// placeName is the municipality (or ward) name without its 市/町/村/区, with
// the reading in katakana.
func placeName(m area.Municipality) (string, string) {
	name, kana := m.Name, m.Kana
	if m.IsWard() {
		// Named after the city, as people do (and whose reading we have).
		if p, ok := area.Muni(m.Parent); ok {
			name, kana = p.Name, p.Kana
		}
	}
	for _, suf := range []string{"市", "町", "村", "区"} {
		if strings.HasSuffix(name, suf) && utf8.RuneCountInString(name) > 2 {
			name = strings.TrimSuffix(name, suf)
			break
		}
	}
	for _, suf := range []string{"し", "ちょう", "まち", "むら", "そん", "く"} {
		if strings.HasSuffix(kana, suf) && len(kana) > len(suf)+3 {
			kana = strings.TrimSuffix(kana, suf)
			break
		}
	}
	return name, toKatakana(kana)
}

func toKatakana(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'ぁ' && r <= 'ゖ' {
			return r + ('ァ' - 'ぁ')
		}
		return r
	}, s)
}

func synthOne(r *rand.Rand, pt *placeTable, f *facility.Facility, i int, now time.Time) {
	m := pt.muni(r)
	t := pt.typ(r)
	place, placeKana := placeName(m)
	word := nameWords[r.IntN(len(nameWords))]
	tn := typeNames[t][r.IntN(len(typeNames[t]))]
	var name, kana string
	switch r.IntN(3) {
	case 0:
		name, kana = tn.w+" "+word.w+place, tn.k+word.k+placeKana
	case 1:
		name, kana = tn.w+" "+word.w, tn.k+word.k
	default:
		name, kana = word.w+"の家 "+place, word.k+"ノイエ"+placeKana
		if t != facility.JutakuYuryo && t != facility.Sakoju && t != facility.GroupHome {
			name, kana = tn.w+" "+name, tn.k+kana
		}
	}
	op := operators[r.IntN(len(operators))]
	if t == facility.Tokuyo || t == facility.ChiikiTokuyo || t == facility.CareHouse {
		op = operators[1]
	} else if t == facility.Roken || t == facility.Iryoin {
		op = operators[2]
	}
	opWord := nameWords[r.IntN(len(nameWords))]

	// Around the town hall: a distance from 0.2 to ~6 km, denser near it.
	d := 0.2 + 5.8*math.Pow(r.Float64(), 1.6)
	theta := r.Float64() * 2 * math.Pi
	lat := m.Lat + d/111.2*math.Cos(theta)
	lng := m.Lng + d/(111.2*math.Cos(m.Lat*math.Pi/180))*math.Sin(theta)

	pref, _ := area.Pref(m.PrefCode)
	*f = facility.Facility{
		Type:        t,
		Name:        name,
		Kana:        kana,
		Operator:    op.w + opWord.w + "会",
		PrefCode:    m.PrefCode,
		MuniCode:    m.Code,
		Address:     pref.Name + m.Name + strconv.Itoa(1+r.IntN(9)) + "丁目" + strconv.Itoa(1+r.IntN(30)) + "-" + strconv.Itoa(1+r.IntN(20)),
		Lat:         math.Round(lat*1e6) / 1e6,
		Lng:         math.Round(lng*1e6) / 1e6,
		OpenedOn:    time.Date(1975+r.IntN(51), time.Month(1+r.IntN(12)), 1, 0, 0, 0, 0, time.UTC),
		InitialCost: -1,
	}
	if t == facility.Sakoju && f.OpenedOn.Year() < 2011 {
		f.OpenedOn = f.OpenedOn.AddDate(2012-f.OpenedOn.Year(), 0, 0) // サ高住 exist since 2011
	}
	fillWith(r, f, now)
}
