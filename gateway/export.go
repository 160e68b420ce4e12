package gateway

import (
	"context"
	"encoding/csv"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/utilities"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	customerv1 "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
	"github.com/telecomcrm/crm/services/platform/metrics"
)

// A list the console shows is exported as CSV with the list's own filters
// (GET /api/v1/tasks:export?state=TASK_STATE_OPEN&query=…): the export
// pages through the list call as the caller, so it shows exactly what the
// caller may see, and writes each page as it comes, so a long list starts
// at once and never sits whole in memory. The file is UTF-8 with a byte
// order mark (spreadsheets then read Cyrillic right), comma-separated,
// with headers in the `lang` the console asks (ru or en; the deployment's
// by default) and times in UTC (RFC 3339).

// exportPage is the page size asked of the services.
const exportPage = 100

// exportColumn is one column: its header in each language, and its cell.
// A cell that is a code (an enum's value, true or false) is written in
// words of the file's language from words.
type exportColumn[T any] struct {
	ru, en string
	cell   func(T) string
	words  map[string]word
}

// word is a code's name in each language.
type word struct{ ru, en string }

func (c exportColumn[T]) text(it T, lang string) string {
	v := c.cell(it)
	if w, ok := c.words[v]; ok {
		if lang == "ru" {
			return w.ru
		}
		return w.en
	}
	return v
}

var (
	taskKindWords     = map[string]word{"CONNECTION": {"подключение", "connection"}, "SERVICE": {"сервисная", "service"}}
	taskStateWords    = map[string]word{"OPEN": {"открыта", "open"}, "CLOSED": {"закрыта", "closed"}, "CANCELLED": {"отменена", "cancelled"}}
	customerKindWords = map[string]word{"PERSON": {"частное лицо", "person"}, "COMPANY": {"организация", "company"}}
	yesNoWords        = map[string]word{"true": {"да", "yes"}, "false": {"нет", "no"}}
)

// exporter pages through one list.
type exporter[Req proto.Message, Item any] struct {
	name    string
	columns []exportColumn[Item]
	// page asks one page: the items and the next page's token.
	page func(ctx context.Context, req Req, token string) ([]Item, string, error)
}

func (e exporter[Req, Item]) handler(newReq func() Req, locale string, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := newReq()
		lang := r.URL.Query().Get("lang")
		if lang != "ru" && lang != "en" {
			lang = locale
		}
		values := r.URL.Query()
		values.Del("lang")
		if err := (strictQuery{}).Parse(req, values, &utilities.DoubleArray{}); err != nil {
			writeStatus(w, status.New(codes.InvalidArgument, err.Error()))
			return
		}
		ctx := backendContext(r)
		items, next, err := e.page(ctx, req, "")
		if err != nil {
			writeStatus(w, status.Convert(err))
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+e.name+`-`+time.Now().UTC().Format("2006-01-02")+`.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte("\ufeff"))
		out := csv.NewWriter(w)
		head := make([]string, len(e.columns))
		for i, c := range e.columns {
			head[i] = c.en
			if lang == "ru" {
				head[i] = c.ru
			}
		}
		out.Write(head)
		rc := http.NewResponseController(w)
		for {
			for _, it := range items {
				row := make([]string, len(e.columns))
				for i, c := range e.columns {
					row[i] = safeCell(c.text(it, lang))
				}
				out.Write(row)
			}
			out.Flush()
			_ = rc.Flush()
			if next == "" {
				return
			}
			if items, next, err = e.page(ctx, req, next); err != nil {
				// the status is sent already: break the transfer, so the
				// client sees a failed download, not a short file
				log.WarnContext(r.Context(), "export broken off", "list", e.name, "err", err)
				panic(http.ErrAbortHandler)
			}
		}
	})
}

// safeCell keeps a spreadsheet from reading a cell as a formula: one that
// starts with =, @, a tab or a carriage return, or with + or - not
// followed by a digit (phone numbers and amounts stay as they are), is
// written behind an apostrophe.
func safeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return "'" + s
	case '+', '-':
		if len(s) == 1 || s[1] < '0' || s[1] > '9' {
			return "'" + s
		}
	}
	return s
}

func stamp(t *timestamppb.Timestamp) string {
	if t == nil {
		return ""
	}
	return t.AsTime().UTC().Format(time.RFC3339)
}

func idText(v int64) string {
	if v == 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// enumWord is an enum value without its type's prefix: ACTIVE.
func enumWord(v interface{ String() string }, prefix string) string {
	s := strings.TrimPrefix(v.String(), prefix)
	if s == "UNSPECIFIED" {
		return ""
	}
	return s
}

// mountExports adds the CSV exports of the lists.
func mountExports(mux *http.ServeMux, m *metrics.Metrics, authn *authenticator, conns map[string]*grpc.ClientConn, locale string, log *slog.Logger) {
	tasks := taskv1.NewTaskServiceClient(conns["task"])
	taskList := exporter[*taskv1.ListTasksRequest, *taskv1.Task]{
		name: "tasks",
		page: func(ctx context.Context, req *taskv1.ListTasksRequest, token string) ([]*taskv1.Task, string, error) {
			req.PageSize, req.PageToken = exportPage, token
			resp, err := tasks.ListTasks(ctx, req)
			return resp.GetTasks(), resp.GetNextPageToken(), err
		},
		columns: []exportColumn[*taskv1.Task]{
			{"Номер", "Number", func(t *taskv1.Task) string { return t.GetNumber() }, nil},
			{"Название", "Title", func(t *taskv1.Task) string { return t.GetTitle() }, nil},
			{"Вид", "Kind", func(t *taskv1.Task) string { return enumWord(t.GetKind(), "TASK_KIND_") }, taskKindWords},
			{"Состояние", "State", func(t *taskv1.Task) string { return enumWord(t.GetState(), "TASK_STATE_") }, taskStateWords},
			{"Маршрут", "Route", func(t *taskv1.Task) string { return t.GetRouteName() }, nil},
			{"Процесс", "Process", func(t *taskv1.Task) string { return t.GetCurrentProcess().GetName() }, nil},
			{"Исполнитель", "Assignee", func(t *taskv1.Task) string { return t.GetAssigneeName() }, nil},
			{"Абонент", "Customer", func(t *taskv1.Task) string { return t.GetCustomerName() }, nil},
			{"Договор", "Contract", func(t *taskv1.Task) string { return t.GetContractNumber() }, nil},
			{"Срок SLA", "SLA due", func(t *taskv1.Task) string { return stamp(t.GetSlaDueAt()) }, nil},
			{"SLA нарушен", "SLA breached", func(t *taskv1.Task) string { return strconv.FormatBool(t.GetSlaBreached()) }, yesNoWords},
			{"Создана", "Created", func(t *taskv1.Task) string { return stamp(t.GetCreateTime()) }, nil},
			{"Закрыта", "Closed", func(t *taskv1.Task) string { return stamp(t.GetClosedAt()) }, nil},
			{"Причина закрытия", "Close reason", func(t *taskv1.Task) string { return t.GetCloseReason() }, nil},
		},
	}
	customers := customerv1.NewCustomerServiceClient(conns["customer"])
	customerList := exporter[*customerv1.SearchCustomersRequest, *customerv1.Customer]{
		name: "customers",
		page: func(ctx context.Context, req *customerv1.SearchCustomersRequest, token string) ([]*customerv1.Customer, string, error) {
			req.PageSize, req.PageToken = exportPage, token
			resp, err := customers.SearchCustomers(ctx, req)
			return resp.GetCustomers(), resp.GetNextPageToken(), err
		},
		columns: []exportColumn[*customerv1.Customer]{
			{"Код", "Id", func(c *customerv1.Customer) string { return idText(c.GetId()) }, nil},
			{"Имя", "Name", func(c *customerv1.Customer) string { return c.GetName() }, nil},
			{"Тип", "Kind", func(c *customerv1.Customer) string { return enumWord(c.GetKind(), "CUSTOMER_KIND_") }, customerKindWords},
			{"Телефоны", "Phones", func(c *customerv1.Customer) string {
				var out []string
				for _, p := range c.GetPhones() {
					out = append(out, p.GetNumber())
				}
				return strings.Join(out, ", ")
			}, nil},
			{"Эл. почта", "Email", func(c *customerv1.Customer) string { return c.GetEmail() }, nil},
			{"Адрес", "Address", func(c *customerv1.Customer) string { return c.GetAddress() }, nil},
			{"Зарегистрирован", "Registered", func(c *customerv1.Customer) string { return stamp(c.GetCreateTime()) }, nil},
		},
	}
	for pattern, h := range map[string]http.Handler{
		"GET /api/v1/tasks:export":     taskList.handler(func() *taskv1.ListTasksRequest { return &taskv1.ListTasksRequest{} }, locale, log),
		"GET /api/v1/customers:export": customerList.handler(func() *customerv1.SearchCustomersRequest { return &customerv1.SearchCustomersRequest{} }, locale, log),
	} {
		mux.Handle(pattern, m.InstrumentHTTP("export", transfer(authn.middleware(h))))
	}
}
