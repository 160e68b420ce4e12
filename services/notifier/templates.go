package notifier

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"gorm.io/gorm/clause"

	notifierv1 "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	"github.com/telecomcrm/crm/services/platform/fault"
)

// The customers' messages are templates with named placeholders in braces
// ("{name}, договор {contract} открыт"). Each milestone has a default per
// language in the catalog (cust.<milestone>); admins may write their own,
// kept in customer_templates, and a placeholder the milestone does not
// fill is refused when saved.

// placeholders are what each milestone fills.
var placeholders = map[string][]string{
	msContractOpened:   {"name", "contract"},
	msConnected:        {"name", "contract"},
	msVisitBooked:      {"name", "date", "from", "to", "task"},
	msVisitRescheduled: {"name", "date", "from", "to", "task"},
	msVisitOnTheWay:    {"name", "until"},
	msRequestReceived:  {"name", "task", "title"},
	msRequestResolved:  {"name", "task", "title"},
	msStaffComment:     {"name", "task", "text"},
}

// milestones in the order an admin reads them.
var milestones = []string{msContractOpened, msVisitBooked, msVisitRescheduled, msVisitOnTheWay, msConnected, msRequestReceived, msRequestResolved, msStaffComment}

// samples fill a preview.
var samples = map[string]string{
	"name": "Иван Петров", "contract": "C-000123", "task": "T-000456", "title": "Нет интернета",
	"date": "04.12.2026", "from": "10:00", "to": "12:00", "until": "12:00", "text": "Мастер приедет завтра",
}

var placeholderRx = regexp.MustCompile(`\{([^{}]*)\}`)

// fill puts the values into a template's placeholders.
func fill(tpl string, vars map[string]string) string {
	return placeholderRx.ReplaceAllStringFunc(tpl, func(m string) string {
		if v, ok := vars[m[1:len(m)-1]]; ok {
			return v
		}
		return m
	})
}

// checkTemplate refuses a placeholder the milestone does not fill.
func checkTemplate(ms, text string) error {
	for _, m := range placeholderRx.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(placeholders[ms], m[1]) {
			return fault.Field("text", "{%s} is not a placeholder of %s; it has %s", m[1], ms, "{"+strings.Join(placeholders[ms], "}, {")+"}")
		}
	}
	return nil
}

type customerTemplateRow struct {
	Milestone string `gorm:"primaryKey"`
	Language  string `gorm:"primaryKey"`
	Text      string
	UpdatedAt int64 `gorm:"autoUpdateTime:false"`
}

func (customerTemplateRow) TableName() string { return "customer_templates" }

func (s *store) customTemplate(ctx context.Context, ms, l string) (string, error) {
	var rows []customerTemplateRow
	if err := s.db.WithContext(ctx).Where("milestone = ? AND language = ?", ms, l).Limit(1).Find(&rows).Error; err != nil || len(rows) == 0 {
		return "", err
	}
	return rows[0].Text, nil
}

func (s *store) customTemplates(ctx context.Context) (map[[2]string]string, error) {
	var rows []customerTemplateRow
	if err := s.db.WithContext(ctx).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := map[[2]string]string{}
	for _, r := range rows {
		out[[2]string{r.Milestone, r.Language}] = r.Text
	}
	return out, nil
}

func (s *store) setTemplate(ctx context.Context, ms, l, text string) error {
	db := s.db.WithContext(ctx)
	if text == "" {
		return db.Where("milestone = ? AND language = ?", ms, l).Delete(&customerTemplateRow{}).Error
	}
	return db.Clauses(clause.OnConflict{UpdateAll: true}).Create(&customerTemplateRow{Milestone: ms, Language: l, Text: text, UpdatedAt: s.micros()}).Error
}

// template is the text of a milestone's message in a language: the
// admins' own, else the catalog's.
func (s *Service) template(ctx context.Context, ms, l string) (string, error) {
	custom, err := s.store.customTemplate(ctx, ms, l)
	if err != nil || custom != "" {
		return custom, err
	}
	return say(l, "cust."+ms), nil
}

func templateProto(ms, l, custom string) *notifierv1.CustomerTemplate {
	def := say(l, "cust."+ms)
	t := &notifierv1.CustomerTemplate{Milestone: ms, Language: l, Text: def, DefaultText: def, Placeholders: placeholders[ms]}
	if custom != "" {
		t.Text, t.Custom = custom, true
	}
	return t
}

// templateKey checks a milestone and a language named by a request.
func templateKey(ms, l string) error {
	if _, ok := placeholders[ms]; !ok {
		return fault.Field("milestone", "%q is not a milestone; they are %s", ms, strings.Join(milestones, ", "))
	}
	if messages.supported(l) != l {
		return fault.Field("language", "%q is not a language of the messages (ru or en)", l)
	}
	return nil
}

func (srv *Server) ListCustomerTemplates(ctx context.Context, _ *notifierv1.ListCustomerTemplatesRequest) (*notifierv1.ListCustomerTemplatesResponse, error) {
	custom, err := srv.svc.store.customTemplates(ctx)
	if err != nil {
		return nil, err
	}
	out := &notifierv1.ListCustomerTemplatesResponse{}
	for _, ms := range milestones {
		for _, l := range []string{"ru", "en"} {
			out.Templates = append(out.Templates, templateProto(ms, l, custom[[2]string{ms, l}]))
		}
	}
	return out, nil
}

func (srv *Server) UpdateCustomerTemplate(ctx context.Context, req *notifierv1.UpdateCustomerTemplateRequest) (*notifierv1.UpdateCustomerTemplateResponse, error) {
	ms, l, text := req.GetMilestone(), req.GetLanguage(), strings.TrimSpace(req.GetText())
	if err := templateKey(ms, l); err != nil {
		return nil, err
	}
	if err := checkTemplate(ms, text); err != nil {
		return nil, err
	}
	if err := srv.svc.store.setTemplate(ctx, ms, l, text); err != nil {
		return nil, err
	}
	return &notifierv1.UpdateCustomerTemplateResponse{Template: templateProto(ms, l, text)}, nil
}

func (srv *Server) PreviewCustomerTemplate(_ context.Context, req *notifierv1.PreviewCustomerTemplateRequest) (*notifierv1.PreviewCustomerTemplateResponse, error) {
	ms, l, text := req.GetMilestone(), req.GetLanguage(), strings.TrimSpace(req.GetText())
	if err := templateKey(ms, l); err != nil {
		return nil, err
	}
	if text == "" {
		text = say(l, "cust."+ms)
	}
	if err := checkTemplate(ms, text); err != nil {
		return nil, err
	}
	return &notifierv1.PreviewCustomerTemplateResponse{Text: fill(text, samples)}, nil
}
