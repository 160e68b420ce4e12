package logging

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretsAndPhonesAreMaskedButCallCodesAreNot(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelDebug, "json")
	log.Info("x", "password", "hunter2-password", "access_token", "tok-123456", "phone", "+79123456789",
		"link_code", "ABCD2345", "number", "+79990001122", "grpc.code", "NotFound", "task_id", 42)
	out := buf.String()
	for _, secret := range []string{"hunter2-password", "tok-123456", "+79123456789", "ABCD2345", "+79990001122"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q reached the log: %s", secret, out)
		}
	}
	for _, kept := range []string{`"grpc.code":"NotFound"`, `"task_id":42`} {
		if !strings.Contains(out, kept) {
			t.Errorf("%s was masked: %s", kept, out)
		}
	}
}
