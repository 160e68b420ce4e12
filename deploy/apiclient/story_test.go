package apiclient_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/telecomcrm/crm/deploy/apiclient"
	"github.com/telecomcrm/crm/deploy/stacktest"
)

// TestGeneratedClientDrivesTheAPI runs a sales desk's story through the
// generated client only: sign in, a customer, a contract on a tariff, its
// connection task advanced one process, and refusals read as typed
// google.rpc.Status answers.
func TestGeneratedClientDrivesTheAPI(t *testing.T) {
	s := stacktest.Start(t)
	ctx := context.Background()

	anon, err := apiclient.NewClientWithResponses(s.Base)
	if err != nil {
		t.Fatal(err)
	}
	login, password := "admin", "wrong password"
	refused, err := anon.IdentityServiceLoginWithResponse(ctx, apiclient.IdentityServiceLoginJSONRequestBody{Login: &login, Password: &password})
	if err != nil {
		t.Fatal(err)
	}
	if refused.StatusCode() != http.StatusUnauthorized || refused.JSON401 == nil || refused.JSON401.Message == nil {
		t.Fatalf("a wrong password: %d %s", refused.StatusCode(), refused.Body)
	}
	password = stacktest.AdminPassword
	session, err := anon.IdentityServiceLoginWithResponse(ctx, apiclient.IdentityServiceLoginJSONRequestBody{Login: &login, Password: &password})
	if err != nil {
		t.Fatal(err)
	}
	if session.JSON200 == nil || session.JSON200.AccessToken == nil {
		t.Fatalf("sign in: %d %s", session.StatusCode(), session.Body)
	}
	token := *session.JSON200.AccessToken
	api, err := apiclient.NewClientWithResponses(s.Base, apiclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+token)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}

	label := "mobile"
	customer, err := api.CustomerServiceCreateCustomerWithResponse(ctx, apiclient.CrmCustomerV1Customer{
		Name:   "Анна Смирнова",
		Phones: &[]apiclient.CrmCustomerV1Phone{{Number: "8 913 555-01-02", Label: &label}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if customer.JSON200 == nil || customer.JSON200.Id == nil {
		t.Fatalf("create customer: %d %s", customer.StatusCode(), customer.Body)
	}
	if got := (*customer.JSON200.Phones)[0].Number; got != "+79135550102" {
		t.Errorf("the phone is answered as %q, want it normalised", got)
	}

	// The same number for another customer: 409 with the reason typed.
	twin, err := api.CustomerServiceCreateCustomerWithResponse(ctx, apiclient.CrmCustomerV1Customer{
		Name: "Другой клиент", Phones: &[]apiclient.CrmCustomerV1Phone{{Number: "+79135550102"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if twin.StatusCode() != http.StatusConflict || twin.JSON409 == nil || reason(twin.JSON409) != "PHONE_TAKEN" {
		t.Fatalf("a taken number: %d %s", twin.StatusCode(), twin.Body)
	}
	// No name: 400 naming the field.
	nameless, err := api.CustomerServiceCreateCustomerWithResponse(ctx, apiclient.CrmCustomerV1Customer{
		Phones: &[]apiclient.CrmCustomerV1Phone{{Number: "+79135550103"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if nameless.StatusCode() != http.StatusBadRequest || nameless.JSON400 == nil || !violates(nameless.JSON400, "name") {
		t.Fatalf("a customer without a name: %d %s", nameless.StatusCode(), nameless.Body)
	}

	person := apiclient.CUSTOMERKINDPERSON
	tariffs, err := api.ContractServiceListTariffsWithResponse(ctx, &apiclient.ContractServiceListTariffsParams{CustomerKind: &person})
	if err != nil {
		t.Fatal(err)
	}
	if tariffs.JSON200 == nil || tariffs.JSON200.Tariffs == nil || len(*tariffs.JSON200.Tariffs) == 0 {
		t.Fatalf("tariffs: %d %s", tariffs.StatusCode(), tariffs.Body)
	}
	contract, err := api.ContractServiceCreateContractWithResponse(ctx, apiclient.ContractServiceCreateContractJSONRequestBody{
		CustomerId: *customer.JSON200.Id,
		TariffId:   *(*tariffs.JSON200.Tariffs)[0].Id,
		Address:    "Новосибирск, ул. Ленина, 1, кв. 5",
	})
	if err != nil {
		t.Fatal(err)
	}
	if contract.JSON200 == nil || contract.JSON200.ConnectionTaskId == nil {
		t.Fatalf("create contract: %d %s", contract.StatusCode(), contract.Body)
	}
	if *contract.JSON200.Status != apiclient.CONTRACTSTATUSPENDING {
		t.Errorf("a new contract is %s, want pending", *contract.JSON200.Status)
	}

	taskID := *contract.JSON200.ConnectionTaskId
	task, err := api.TaskServiceGetTaskWithResponse(ctx, taskID)
	if err != nil {
		t.Fatal(err)
	}
	if task.JSON200 == nil || task.JSON200.CurrentProcess == nil {
		t.Fatalf("get task: %d %s", task.StatusCode(), task.Body)
	}
	first := *task.JSON200.CurrentProcess
	comment := "заявка проверена"
	advanced, err := api.TaskServiceAdvanceTaskWithResponse(ctx, taskID, apiclient.TaskServiceAdvanceTaskJSONRequestBody{Comment: &comment, ProcessId: first.Id})
	if err != nil {
		t.Fatal(err)
	}
	if advanced.JSON200 == nil || advanced.JSON200.CurrentProcess == nil {
		t.Fatalf("advance: %d %s", advanced.StatusCode(), advanced.Body)
	}
	if got := *advanced.JSON200.CurrentProcess.Position; got != *first.Position+1 {
		t.Errorf("after advancing, the task is at position %d, want %d", got, *first.Position+1)
	}
	// The same command again names the process left: the task moved, 409.
	again, err := api.TaskServiceAdvanceTaskWithResponse(ctx, taskID, apiclient.TaskServiceAdvanceTaskJSONRequestBody{ProcessId: first.Id})
	if err != nil {
		t.Fatal(err)
	}
	if again.StatusCode() != http.StatusConflict || again.JSON409 == nil || reason(again.JSON409) != "TASK_MOVED" {
		t.Fatalf("advancing a process already left: %d %s", again.StatusCode(), again.Body)
	}

	missing, err := api.TaskServiceGetTaskWithResponse(ctx, "999999")
	if err != nil {
		t.Fatal(err)
	}
	if missing.StatusCode() != http.StatusNotFound || missing.JSON404 == nil {
		t.Fatalf("a task that does not exist: %d %s", missing.StatusCode(), missing.Body)
	}
}

func reason(st *apiclient.GoogleRpcStatus) string {
	if st.Details == nil {
		return ""
	}
	for _, d := range *st.Details {
		if d.Reason != nil {
			return *d.Reason
		}
	}
	return ""
}

func violates(st *apiclient.GoogleRpcStatus, field string) bool {
	if st.Details == nil {
		return false
	}
	for _, d := range *st.Details {
		if d.FieldViolations == nil {
			continue
		}
		for _, v := range *d.FieldViolations {
			if v.Field != nil && *v.Field == field {
				return true
			}
		}
	}
	return false
}
