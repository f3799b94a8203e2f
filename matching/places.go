package matching

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/width"

	"carematch/area"
)

// Places is what a text such as 「世田谷区か杉並区、駅から10km以内」 names as
// an area: whole prefectures, municipalities and a radius around the
// municipalities' town halls.
type Places struct {
	Prefs    []int
	Munis    []string // 6-digit codes
	RadiusKm float64
	// Ambiguous are names that fit several municipalities (北区) with no
	// prefecture to tell them apart.
	Ambiguous []string
}

// Empty reports whether no area was read.
func (p Places) Empty() bool { return len(p.Prefs) == 0 && len(p.Munis) == 0 }

// dictionary maps every prefecture name (東京都, 東京) and municipality name
// (世田谷区, 横浜市, 横浜市港北区, and a designated city's ward alone: 港北区)
// to what it may mean.
type dictionary struct {
	names  map[string][]place
	maxLen int // runes
}

type place struct {
	pref int    // a prefecture when muni is ""
	muni string // a municipality code
}

var (
	dictOnce sync.Once
	dict     dictionary
)

func getDict() *dictionary {
	dictOnce.Do(func() {
		dict.names = map[string][]place{}
		add := func(name string, p place) {
			name = strings.ReplaceAll(name, "ヶ", "ケ")
			if !slices.Contains(dict.names[name], p) {
				dict.names[name] = append(dict.names[name], p)
			}
			dict.maxLen = max(dict.maxLen, utf8.RuneCountInString(name))
		}
		for _, p := range area.Prefectures() {
			add(p.Name, place{pref: p.Code})
			add(p.Short, place{pref: p.Code})
		}
		for _, m := range area.All() {
			add(m.Name, place{pref: m.PrefCode, muni: m.Code})
			if m.Ward != "" {
				add(m.Ward, place{pref: m.PrefCode, muni: m.Code})
			}
		}
	})
	return &dict
}

var radiusPattern = regexp.MustCompile(`([0-9]+(?:\.[0-9]+)?)\s*(?:km|キロ|㎞)`)

// ReadPlaces reads the areas named in free text: the longest known name at
// each position wins (東大和市 before 大和市), a prefecture written right
// before one of its municipalities only qualifies it (東京都府中市 is 府中市
// of 東京都), and a name shared by several municipalities is resolved by a
// prefecture named elsewhere in the text, then by hint (the case's
// prefecture), else reported as ambiguous. "10km" or "10キロ" is a radius.
func ReadPlaces(text string, hint int) Places {
	text = width.Fold.String(text)
	text = strings.ReplaceAll(text, "ヶ", "ケ")
	d := getDict()
	type hit struct {
		start, end int // rune positions
		name       string
		cands      []place
	}
	rs := []rune(text)
	var hits []hit
	for i := 0; i < len(rs); {
		found := false
		for n := min(d.maxLen, len(rs)-i); n >= 2; n-- {
			name := string(rs[i : i+n])
			if c, ok := d.names[name]; ok {
				hits = append(hits, hit{i, i + n, name, c})
				i += n
				found = true
				break
			}
		}
		if !found {
			i++
		}
	}
	var out Places
	if m := radiusPattern.FindStringSubmatch(strings.ToLower(text)); m != nil {
		out.RadiusKm, _ = strconv.ParseFloat(m[1], 64)
	}
	// Prefectures named anywhere help to resolve shared names.
	named := map[int]bool{}
	for _, h := range hits {
		for _, c := range h.cands {
			if c.muni == "" {
				named[c.pref] = true
			}
		}
	}
	for k := 0; k < len(hits); k++ {
		h := hits[k]
		if isPref(h.cands) {
			p := h.cands[0].pref
			// 東京都府中市: the prefecture qualifies the next name.
			if k+1 < len(hits) && hits[k+1].start == h.end {
				nx := hits[k+1]
				if i := slices.IndexFunc(nx.cands, func(c place) bool { return c.muni != "" && c.pref == p }); i >= 0 {
					addMuni(&out, nx.cands[i].muni)
					k++
					continue
				}
			}
			if !slices.Contains(out.Prefs, p) {
				out.Prefs = append(out.Prefs, p)
			}
			continue
		}
		cands := slices.DeleteFunc(slices.Clone(h.cands), func(c place) bool { return c.muni == "" })
		if len(cands) > 1 {
			if in := filter(cands, func(c place) bool { return named[c.pref] }); len(in) > 0 {
				cands = in
			} else if in := filter(cands, func(c place) bool { return c.pref == hint }); len(in) > 0 {
				cands = in
			}
		}
		if len(cands) == 1 {
			addMuni(&out, cands[0].muni)
		} else if len(cands) > 1 && !slices.Contains(out.Ambiguous, h.name) {
			out.Ambiguous = append(out.Ambiguous, h.name)
		}
	}
	// A prefecture named only to qualify a municipality elsewhere (「東京都
	// の世田谷区」) is not a wish for the whole prefecture.
	out.Prefs = slices.DeleteFunc(out.Prefs, func(p int) bool {
		return slices.ContainsFunc(out.Munis, func(m string) bool { mu, _ := area.Muni(m); return mu.PrefCode == p })
	})
	return out
}

func isPref(cs []place) bool { return len(cs) > 0 && cs[0].muni == "" && len(cs) == 1 }

func filter(cs []place, keep func(place) bool) []place {
	var out []place
	for _, c := range cs {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

func addMuni(p *Places, code string) {
	if !slices.Contains(p.Munis, code) {
		p.Munis = append(p.Munis, code)
	}
}

// Describe names the places in words: 「東京都世田谷区、神奈川県（半径10km）」.
func (p Places) Describe() string {
	var parts []string
	for _, c := range p.Prefs {
		if pr, ok := area.Pref(c); ok {
			parts = append(parts, pr.Name)
		}
	}
	for _, c := range p.Munis {
		if m, ok := area.Muni(c); ok {
			pr, _ := area.Pref(m.PrefCode)
			parts = append(parts, pr.Name+m.Name)
		}
	}
	s := strings.Join(parts, "、")
	if p.RadiusKm > 0 && len(p.Munis) > 0 {
		s += "（市区町村役所から半径" + strconv.FormatFloat(p.RadiusKm, 'f', -1, 64) + "km）"
	}
	return s
}
