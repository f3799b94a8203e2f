package web

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"
)

// cleanForm makes every posted value storable and showable before any
// handler sees it: bytes that are not UTF-8 become U+FFFD and control
// characters other than tab and line breaks are dropped (PostgreSQL
// refuses both in text, which would otherwise surface as a failed write).
// What a person typed on a keyboard passes unchanged. It runs for every
// unsafe request, so a form added later is covered too. A body that cannot
// be read is answered here (413 over the limit, else 400) and false
// returned.
func (s *Server) cleanForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		status := http.StatusBadRequest
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			status = http.StatusRequestEntityTooLarge
		}
		if isAPI(r) {
			s.apiFail(w, r, status, apiError{Code: "bad_request", Message: "送信された内容を読み取れませんでした。"})
		} else {
			s.renderError(w, r, status)
		}
		return false
	}
	for _, vs := range []map[string][]string{r.Form, r.PostForm} {
		for k, v := range vs {
			for i, x := range v {
				v[i] = cleanText(x)
			}
			if ck := cleanText(k); ck != k {
				delete(vs, k)
				vs[ck] = append(vs[ck], v...)
			}
		}
	}
	return true
}

func cleanText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, unwantedControl) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(c rune) rune {
		if unwantedControl(c) {
			return -1
		}
		return c
	}, s)
}

func unwantedControl(c rune) bool {
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f
}
