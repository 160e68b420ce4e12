package e2e

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/telecomcrm/crm/deploy/stacktest"
	authv1 "github.com/telecomcrm/crm/proto/gen/crm/auth/v1"
	_ "github.com/telecomcrm/crm/proto/gen/crm/contract/v1"
	_ "github.com/telecomcrm/crm/proto/gen/crm/customer/v1"
	_ "github.com/telecomcrm/crm/proto/gen/crm/identity/v1"
	_ "github.com/telecomcrm/crm/proto/gen/crm/notifier/v1"
	_ "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

// route is one REST route of the API and who may call it, both read from
// the proto declarations: a route added later is in the matrix by itself.
type restRoute struct {
	rpc    string
	method string
	path   string
	access *authv1.Access
}

// gatewayServed are the streaming calls the gateway serves with handlers of
// its own (a file's upload as multipart, its download as bytes, an import's
// file as the body), whose access is tested in the gateway's and the
// services' suites.
var gatewayServed = map[protoreflect.FullName]bool{
	"crm.task.v1.AttachmentService.UploadAttachment":   true,
	"crm.task.v1.AttachmentService.DownloadAttachment": true,
	"crm.contract.v1.ImportService.CheckImport":        true,
}

func restRoutes(t *testing.T) []restRoute {
	var out []restRoute
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(string(fd.Package()), "crm.") {
			return true
		}
		for i := range fd.Services().Len() {
			svc := fd.Services().Get(i)
			for j := range svc.Methods().Len() {
				m := svc.Methods().Get(j)
				access, _ := proto.GetExtension(m.Options(), authv1.E_Access).(*authv1.Access)
				if access == nil {
					t.Errorf("%s declares no access rule", m.FullName())
					continue
				}
				rule, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
				if rule == nil {
					if !access.GetInternal() && !gatewayServed[m.FullName()] {
						t.Errorf("%s has no REST route but is not internal", m.FullName())
					}
					continue
				}
				if access.GetInternal() {
					t.Errorf("%s is internal but has a REST route", m.FullName())
				}
				method, path := httpOf(rule)
				out = append(out, restRoute{rpc: string(m.FullName()), method: method, path: path, access: access})
			}
		}
		return true
	})
	if len(out) < 30 {
		t.Fatalf("only %d REST routes found; are the API packages linked in?", len(out))
	}
	return out
}

func httpOf(r *annotations.HttpRule) (string, string) {
	switch p := r.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		return http.MethodGet, p.Get
	case *annotations.HttpRule_Post:
		return http.MethodPost, p.Post
	case *annotations.HttpRule_Patch:
		return http.MethodPatch, p.Patch
	case *annotations.HttpRule_Delete:
		return http.MethodDelete, p.Delete
	case *annotations.HttpRule_Put:
		return http.MethodPut, p.Put
	}
	return "", ""
}

var pathVar = regexp.MustCompile(`\{[^}]+\}`)

// permissions of the default roles (PRODUCT §2).
var rolePermissions = map[string][]string{
	"viewer":     {"customers.read", "contracts.read", "tasks.read", "settings.read"},
	"engineer":   {"customers.read", "contracts.read", "tasks.read", "tasks.work", "settings.read"},
	"operator":   {"customers.read", "customers.write", "contracts.read", "contracts.write", "tasks.read", "tasks.create", "tasks.work", "settings.read"},
	"supervisor": {"customers.read", "customers.write", "contracts.read", "contracts.write", "tasks.read", "tasks.create", "tasks.work", "tasks.manage", "settings.read", "settings.write", "integrations.manage", "imports.run"},
}

func TestEveryRESTRouteAnswersEachRoleAsItsDeclarationSays(t *testing.T) {
	t.Parallel()
	routes := restRoutes(t)
	s := stacktest.Start(t)
	admin := s.Admin(t)
	clients := map[string]*stacktest.Client{"anonymous": s.Anonymous(t), "admin": admin}
	login := map[string]func() *stacktest.Client{"admin": func() *stacktest.Client { return s.Admin(t) }}
	tokens := map[string]string{}
	for role := range rolePermissions {
		admin.Must(http.MethodPost, "/api/v1/users", map[string]any{"login": role + "1", "displayName": role, "password": role + "-password-1", "roles": []string{role}}, nil)
		login[role] = func() *stacktest.Client { return s.Login(t, role+"1", role+"-password-1") }
		clients[role] = login[role]()
		// a machine's API token holding the role answers as the role does
		var made struct {
			Token    string
			APIToken struct{ ID string } `json:"apiToken"`
		}
		admin.Must(http.MethodPost, "/api/v1/apiTokens", map[string]any{"name": role + " machine", "roles": []string{role}, "expiresInDays": 1}, &made)
		clients["token:"+role] = s.Anonymous(t).WithToken(made.Token)
		tokens[role] = made.APIToken.ID
	}
	for _, r := range routes {
		// ids that exist nowhere: a permitted call reaches the handler and
		// is answered 404 or 400, never 401 or 403
		path := pathVar.ReplaceAllString(r.path, "999999")
		for who, c := range clients {
			t.Run(fmt.Sprintf("%s %s as %s", r.method, r.path, who), func(t *testing.T) {
				if r.rpc == "crm.identity.v1.IdentityService.Logout" && login[who] != nil {
					c = login[who]() // a session of its own to end
				}
				var body any
				if r.method != http.MethodGet && r.method != http.MethodDelete {
					body = "{}"
				}
				got := c.Do(r.method, path, body).Status
				want := expected(r.access, who)
				switch want {
				case "public":
					// a public call may still refuse bad credentials (401)
					if got == 403 || got >= 500 {
						t.Fatalf("%s: answered %d to a public call", r.rpc, got)
					}
				case "allowed":
					if got == 401 || got == 403 || got >= 500 {
						t.Fatalf("%s: answered %d, want it let through", r.rpc, got)
					}
				default:
					if fmt.Sprint(got) != want {
						t.Fatalf("%s: answered %d, want %s", r.rpc, got, want)
					}
				}
			})
		}
	}
	t.Run("a revoked token is refused at once", func(t *testing.T) {
		viewer := clients["token:viewer"]
		if got := viewer.Do(http.MethodGet, "/api/v1/customers", nil).Status; got != 200 {
			t.Fatalf("before: %d", got)
		}
		admin.Must(http.MethodPost, "/api/v1/apiTokens/"+tokens["viewer"]+":revoke", map[string]any{}, nil)
		if got := viewer.Do(http.MethodGet, "/api/v1/customers", nil).Status; got != 401 {
			t.Fatalf("after revoking: %d, want 401", got)
		}
	})
}

func expected(a *authv1.Access, who string) string {
	switch {
	case a.GetPublic():
		return "public"
	case who == "anonymous":
		return "401"
	case a.GetAuthenticated(), who == "admin":
		return "allowed"
	case slices.Contains(rolePermissions[strings.TrimPrefix(who, "token:")], a.GetPermission()):
		return "allowed"
	}
	return "403"
}
