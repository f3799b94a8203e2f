package web

import (
	"net/http"

	"carematch/facility"
)

// top is the home page: where families start a search.
func (s *Server) top(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "top", "介護施設・老人ホームを探す", struct {
		Types      []facility.TypeInfo
		CareLevels []string
	}{facility.Types, careLevelLabels()})
}

func careLevelLabels() []string {
	out := make([]string, 0, facility.NumCareLevels)
	for c := facility.Independent; c < facility.NumCareLevels; c++ {
		out = append(out, c.String())
	}
	return out
}
