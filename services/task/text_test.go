package task

import (
	"maps"
	"testing"

	taskv1 "github.com/telecomcrm/crm/proto/gen/crm/task/v1"
)

func TestAConnectionTitleIsWrittenInTheDeploymentsLanguageAndAnsweredAsACode(t *testing.T) {
	t.Parallel()
	if got := connectionTitle("ru", "C-000005"); got != "Подключение C-000005" {
		t.Fatalf("ru title %q", got)
	}
	if got := connectionTitle("en", "C-000005"); got != "Connect C-000005" {
		t.Fatalf("en title %q", got)
	}
	want := map[string]string{"contract": "C-000005"}
	// Tasks titled before the codes (in English) are recognised too.
	for _, title := range []string{"Подключение C-000005", "Connect C-000005"} {
		row := taskRow{Kind: int32(taskv1.TaskKind_TASK_KIND_CONNECTION), Title: title}
		if p := row.toProto(); p.GetTitleCode() != titleConnection || !maps.Equal(p.GetTitleParams(), want) || p.GetTitle() != title {
			t.Errorf("%q answered as %q %v", title, p.GetTitleCode(), p.GetTitleParams())
		}
		ev := eventRow{Kind: int32(taskv1.TaskEventKind_TASK_EVENT_KIND_CREATED), Text: title}
		if p := ev.toProto(); p.GetTextCode() != titleConnection || !maps.Equal(p.GetTextParams(), want) {
			t.Errorf("the creation %q answered as %q %v", title, p.GetTextCode(), p.GetTextParams())
		}
	}
	// An operator's own words stay theirs.
	for _, row := range []taskRow{
		{Kind: int32(taskv1.TaskKind_TASK_KIND_SERVICE), Title: "Connect C-000005"},
		{Kind: int32(taskv1.TaskKind_TASK_KIND_CONNECTION), Title: "Connect the neighbour too"},
	} {
		if p := row.toProto(); p.GetTitleCode() != "" || p.GetTitleParams() != nil {
			t.Errorf("%v got the code %q", row.Title, p.GetTitleCode())
		}
	}
	comment := eventRow{Kind: int32(taskv1.TaskEventKind_TASK_EVENT_KIND_COMMENTED), Text: "Connect C-000005"}
	if comment.toProto().GetTextCode() != "" {
		t.Error("a comment was read as a composed text")
	}
}
