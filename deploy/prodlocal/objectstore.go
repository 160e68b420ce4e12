package prodlocal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// objectStore is the S3-compatible server attachments go to in
// production mode: SeaweedFS's master, volume server, filer and S3 gateway
// in one `weed server` process, on loopback ports, with one identity.
type objectStore struct {
	proc                 *proc
	endpoint             string
	accessKey, secretKey string
}

// s3Bucket is the bucket the services are given (they make it).
const s3Bucket = "crm-attachments"

// startObjectStore starts SeaweedFS when its binary is given; without it
// attachments stay on the local disk and the run says so.
func (c *Cluster) startObjectStore(ctx context.Context) error {
	if c.cfg.WeedBin == "" {
		c.step("CRM_WEED_BIN is unset: attachments are kept on the local disk, not in S3")
		return nil
	}
	dir := filepath.Join(c.dir, "seaweedfs")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return err
	}
	secret := make([]byte, 20)
	_, _ = rand.Read(secret)
	s := &objectStore{accessKey: "crm", secretKey: hex.EncodeToString(secret)}
	identities := map[string]any{"identities": []map[string]any{{
		"name":        "crm",
		"credentials": []map[string]string{{"accessKey": s.accessKey, "secretKey": s.secretKey}},
		"actions":     []string{"Admin", "Read", "List", "Tagging", "Write"},
	}}}
	cfgJSON, _ := json.Marshal(identities)
	cfgFile := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(cfgFile, cfgJSON, 0o600); err != nil {
		return err
	}
	// Every port is chosen here: SeaweedFS's defaults (and its gRPC ports,
	// derived from them) would collide with another run on this machine.
	p, err := freePorts(9)
	if err != nil {
		return err
	}
	port := func(i int) string { return strconv.Itoa(p[i]) }
	args := []string{"server",
		"-dir=" + filepath.Join(dir, "data"), "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port=" + port(0), "-master.port.grpc=" + port(1), "-master.volumeSizeLimitMB=64",
		"-volume.port=" + port(2), "-volume.port.grpc=" + port(3), "-volume.max=0",
		"-filer", "-filer.port=" + port(4), "-filer.port.grpc=" + port(5),
		"-s3", "-s3.port=" + port(6), "-s3.port.grpc=" + port(7), "-s3.config=" + cfgFile,
		"-s3.port.iceberg=0", "-s3.port.lance=0", "-debug.port=" + port(8),
	}
	s.endpoint = "http://" + net.JoinHostPort("127.0.0.1", port(6))
	c.step("starting SeaweedFS with its S3 gateway on %s (attachments)", s.endpoint)
	if s.proc, err = start("seaweedfs", c.dir, c.cfg.WeedBin, args, nil); err != nil {
		return err
	}
	c.objects = s
	return s.proc.waitFor(ctx, 2*time.Minute, func(ctx context.Context) error {
		d := net.Dialer{Timeout: time.Second}
		conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", port(6)))
		if err != nil {
			return fmt.Errorf("the S3 gateway does not answer yet: %w", err)
		}
		return conn.Close()
	})
}

// env is what the services are told of the object store.
func (s *objectStore) env() map[string]string {
	if s == nil {
		return nil
	}
	return map[string]string{
		"CRM_S3_ENDPOINT": s.endpoint, "CRM_S3_BUCKET": s3Bucket, "CRM_S3_REGION": "us-east-1",
		"CRM_S3_ACCESS_KEY": s.accessKey, "CRM_S3_SECRET_KEY": s.secretKey,
	}
}

func (s *objectStore) stop() {
	if s != nil {
		s.proc.stop(10 * time.Second)
	}
}
