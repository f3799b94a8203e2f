package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"carematch/auth"
)

//go:embed templates
var templateFS embed.FS

// pages holds one parsed template set per page: the layout plus the page.
type pages struct {
	byName map[string]*template.Template
}

func parsePages(a *assets, extra template.FuncMap) (*pages, error) {
	funcs := template.FuncMap{
		"asset": a.url,
		"year":  func() int { return time.Now().Year() },
	}
	for k, f := range extra {
		funcs[k] = f
	}
	base, err := template.New("layout").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", n, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// page is what every page template receives.
type page struct {
	Title     string
	RequestID string // on error pages only (other pages may be cached)
	Canonical string // path+query of the canonical URL, "" for none
	// CSRF is the browser's CSRF token: forms render it with
	// {{template "csrf" $}}, and the layout hands it to htmx. Empty on
	// pages shared between visitors (the search page cache).
	CSRF string
	// Robots, when set, is the page's robots meta ("noindex, …").
	Robots string
	// Staff is the signed-in staff member on staff routes, else nil.
	Staff *staffView
	Data  any
}

// staffView is the signed-in user as the layout shows it.
type staffView struct {
	ID        int64
	Name      string
	RoleLabel string
	// CaseWorker: consultants, managers and admins (the case workspace).
	CaseWorker bool
	// FacilityStaff: the facility portal is their home.
	FacilityStaff bool
	// Billing: managers and admins (contracts and invoices).
	Billing bool
}

// render executes a page into a buffer first, so a template error becomes a
// clean 500 page instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	s.renderPage(w, r, status, name, title, "", data)
}

// renderPage is render with a canonical URL for the page.
func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, status int, name, title, canonical string, data any) {
	p := page{Title: title, Canonical: canonical, Data: data, CSRF: s.csrfToken(w, r)}
	if u, ok := Staff(r); ok {
		p.Staff = &staffView{ID: u.ID, Name: u.Name, RoleLabel: u.Role.Label(),
			CaseWorker: u.Role != auth.FacilityStaff, FacilityStaff: u.Role == auth.FacilityStaff,
			Billing: u.Role == auth.Manager || u.Role == auth.Admin}
	}
	body, err := s.execPage(name, p)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	writeHTML(w, status, body)
}

// execPage renders a page into memory.
func (s *Server) execPage(name string, p page) ([]byte, error) {
	t, ok := s.pages.byName[name]
	if !ok {
		return nil, fmt.Errorf("web: no page template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

func writeHTML(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(body)
}

// serverError logs err (never shown to users) and renders the 500 page,
// or, when the database cannot be reached, the 503 "temporarily
// unavailable" page (JSON under /api/) with Retry-After.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if dbUnavailable(err) {
		s.log.Warn("database unavailable", "request_id", RequestID(r.Context()), "route", r.Pattern, "err", err.Error())
		s.unavailable(w, r)
		return
	}
	s.log.Error("internal error", "request_id", RequestID(r.Context()), "route", r.Pattern, "err", err.Error())
	s.renderError(w, r, http.StatusInternalServerError)
}

var errorText = map[int]struct{ title, body string }{
	http.StatusBadRequest:            {"入力内容を確認してください", "送信された内容を読み取れませんでした。お手数ですが、前のページに戻ってもう一度お試しください。"},
	http.StatusForbidden:             {"送信を受け付けられませんでした", "ページを開いてから時間がたったか、別のサイトから送信された可能性があります。お手数ですが、前のページを開き直してからもう一度お試しください。"},
	http.StatusNotFound:              {"ページが見つかりません", "お探しのページは移動または削除された可能性があります。トップページから探し直してください。"},
	http.StatusMethodNotAllowed:      {"この操作はできません", "このページでは、その操作を受け付けていません。トップページからやり直してください。"},
	http.StatusRequestEntityTooLarge: {"送信内容が大きすぎます", "送信された内容が大きすぎるため受け付けられませんでした。内容を減らしてもう一度お試しください。"},
	http.StatusTooManyRequests:       {"しばらくしてからお試しください", "短い時間に多くの操作がありました。少し時間をおいてからもう一度お試しください。"},
	http.StatusServiceUnavailable:    {"ただいま一時的にご利用いただけません", "システムが一時的に混み合っているか、メンテナンス中です。少し時間をおいてからもう一度お試しください。"},
	http.StatusInternalServerError:   {"エラーが発生しました", "申し訳ありません。システムでエラーが発生しました。少し時間をおいてからもう一度お試しください。"},
}

// renderError renders the friendly Japanese error page with the request id
// (so a family on the phone can read it to us). If the error page itself
// fails, a plain text fallback is sent.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int) {
	txt, ok := errorText[status]
	if !ok {
		txt = errorText[http.StatusInternalServerError]
	}
	s.renderErrorText(w, r, status, txt.title, txt.body)
}

// renderErrorText is renderError with its own heading and text.
func (s *Server) renderErrorText(w http.ResponseWriter, r *http.Request, status int, title, body string) {
	txt := struct{ title, body string }{title, body}
	var buf bytes.Buffer
	t := s.pages.byName["error"]
	data := struct {
		Status        int
		Heading, Body string
	}{status, txt.title, txt.body}
	if t == nil || t.ExecuteTemplate(&buf, "layout", page{Title: txt.title, RequestID: RequestID(r.Context()), Data: data}) != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, "%s\nお問い合わせ番号: %s\n", txt.title, RequestID(r.Context()))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, http.StatusNotFound)
}
