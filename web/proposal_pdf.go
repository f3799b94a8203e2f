package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"carematch/pdfdoc"
	"carematch/proposal"
)

// proposalPDF is the proposal as a printable A4 document, for families
// who prefer paper or fax: the same facilities, costs, acceptance,
// vacancies and comments as the page, and the same single personal item
// (the salutation).
func (s *Server) proposalPDF(p proposal.Proposal) ([]byte, error) {
	now := s.now()
	d := pdfdoc.New(pdfdoc.Meta{
		Title:   "施設のご提案",
		Author:  "ケアマッチ",
		Created: now,
		Footer:  "ケアマッチ（介護施設・老人ホームの無料入居相談）",
	})
	d.Parties(
		pdfdoc.Block{Name: p.Salutation, Lines: []string{"ご提案日 " + p.CreatedAt.In(jst).Format("2006年1月2日"), "有効期限 " + p.ExpiresAt.Add(-time.Second).In(jst).Format("2006年1月2日") + "まで"}},
		pdfdoc.Block{Name: "ケアマッチ", Lines: []string{"担当 入居相談員 " + nonEmpty(p.CreatedByName, "—"), "印刷日 " + now.In(jst).Format("2006年1月2日")}},
	)
	if p.Message != "" {
		d.Paragraph(p.Message)
	}
	fs := s.proposalFacilities(p)
	rows := make([][]string, 0, len(fs))
	for i, f := range fs {
		monthly, initial := "お問い合わせください", "お問い合わせください"
		if f.HasCosts {
			monthly, initial = pdfdoc.YenJP(f.Total), pdfdoc.YenJP(f.Initial)
		}
		rows = append(rows, []string{strconv.Itoa(i + 1), f.Name, f.Type, monthly, initial})
	}
	d.Heading("ご提案する施設（" + strconv.Itoa(len(fs)) + "件）")
	d.Table(pdfdoc.Table{Columns: []pdfdoc.Column{
		{Header: "No.", Width: 11, Align: pdfdoc.Center},
		{Header: "施設名"},
		{Header: "種類", Width: 40},
		{Header: "月額（税込）", Width: 30, Align: pdfdoc.Right},
		{Header: "入居時費用", Width: 30, Align: pdfdoc.Right},
	}, Rows: rows})

	for i, f := range fs {
		d.Heading(strconv.Itoa(i+1) + ". " + f.Name)
		if !f.Known {
			d.Paragraph("この施設の詳しい情報は、現在表示できません。担当の入居相談員にお問い合わせください。")
			if f.Comment != "" {
				d.KeyValues([]pdfdoc.KV{{Label: "担当者より", Value: f.Comment}})
			}
			continue
		}
		kv := []pdfdoc.KV{{Label: "種類", Value: f.Type}, {Label: "所在地", Value: f.Address}}
		if f.Phone != "" {
			kv = append(kv, pdfdoc.KV{Label: "電話", Value: f.Phone})
		}
		if f.Comment != "" {
			kv = append(kv, pdfdoc.KV{Label: "担当者より", Value: f.Comment})
		}
		d.KeyValues(kv)
		if f.HasCosts {
			cost := [][]string{{"入居時費用（入居一時金・敷金など）", pdfdoc.YenJP(f.Initial)}}
			for _, c := range f.Monthly {
				cost = append(cost, []string{"月額：" + c.Label, pdfdoc.YenJP(c.Amount)})
			}
			cost = append(cost, []string{"月額合計", pdfdoc.YenJP(f.Total)})
			d.Table(pdfdoc.Table{Columns: []pdfdoc.Column{{Header: "費用（税込）"}, {Header: "金額", Width: 40, Align: pdfdoc.Right}}, Rows: cost, Size: 9.5})
		} else {
			d.Paragraph("費用は公開されていません。入居相談員がお調べします。")
		}
		var care []string
		for _, c := range f.Care {
			care = append(care, c.Label+" "+c.Accept.Symbol())
		}
		accept := []pdfdoc.KV{
			{Label: "介護度", Value: strings.Join(care, "　")},
			{Label: "認知症", Value: f.Dementia.Symbol() + " " + f.Dementia.Label()},
			{Label: "医療的ケア ○", Value: nonEmpty(strings.Join(f.MedicalOK, "、"), "—")},
			{Label: "医療的ケア △", Value: nonEmpty(strings.Join(f.MedicalAsk, "、"), "—")},
		}
		var vac []string
		for _, v := range f.Vacancies {
			state := "満室"
			if v.Available > 0 {
				state = "空室" + strconv.Itoa(v.Available) + "室"
			}
			vac = append(vac, v.Room+" "+state+"（"+v.Confirmed+"確認）")
		}
		accept = append(accept, pdfdoc.KV{Label: "空室", Value: nonEmpty(strings.Join(vac, "\n"), "情報がありません（入居相談員がお調べします）")})
		if len(f.Features) > 0 {
			accept = append(accept, pdfdoc.KV{Label: "特徴", Value: strings.Join(f.Features, "、")})
		}
		d.KeyValues(accept)
		if f.Demo {
			d.Note("この施設の費用・受け入れ条件・空室はデモ用の架空の値です。")
		}
	}
	d.Footnotes([]string{
		"○ 受け入れ可、△ 要相談、× 受け入れ不可。医療的ケアは ○ と △ の項目だけを載せています。",
		"費用は税込の目安です。介護保険の自己負担分は別にかかります。空室は確認日時点のもので、変わることがあります。",
		"施設の基本情報の出典：厚生労働省 介護サービス情報公表システム（CC BY 4.0）。",
	})
	return d.Bytes()
}

// writeProposalPDF sends the PDF as a download.
func (s *Server) writeProposalPDF(w http.ResponseWriter, r *http.Request, p proposal.Proposal) {
	b, err := s.proposalPDF(p)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `attachment; filename="carematch-proposal.pdf"; filename*=UTF-8''%E3%81%94%E6%8F%90%E6%A1%88.pdf`)
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func nonEmpty(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}
