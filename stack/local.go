package stack

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LocalStateDir is where scripts/stack.sh keeps the real local stack's
// state files, relative to the repository root.
const LocalStateDir = ".tickbench/run"

// Local returns a Config for the real local stack that `make up` started:
// Apache Kafka and versitygw on 127.0.0.1, read from their state files in
// dir (normally LocalStateDir).
func Local(dir string) (Config, error) {
	kafka, err := readState(filepath.Join(dir, "kafka", "state.env"))
	if err != nil {
		return Config{}, fmt.Errorf("local stack: %w (start it with `make up`)", err)
	}
	s3, err := readState(filepath.Join(dir, "s3", "state.env"))
	if err != nil {
		return Config{}, fmt.Errorf("local stack: %w (start it with `make up`)", err)
	}
	cfg := Default()
	cfg.Name = "local"
	cfg.Brokers = strings.Split(kafka["KAFKA_BROKERS"], ",")
	cfg.S3Endpoint = s3["S3_ENDPOINT"]
	cfg.Bucket = s3["S3_BUCKET"]
	cfg.Region = s3["S3_REGION"]
	cfg.AccessKey, cfg.SecretKey = s3["S3_ACCESS_KEY"], s3["S3_SECRET_KEY"]
	for k, v := range map[string]string{"KAFKA_BROKERS": kafka["KAFKA_BROKERS"], "S3_ENDPOINT": cfg.S3Endpoint,
		"S3_BUCKET": cfg.Bucket, "S3_ACCESS_KEY": cfg.AccessKey, "S3_SECRET_KEY": cfg.SecretKey} {
		if v == "" {
			return Config{}, fmt.Errorf("local stack: %s missing from the state files in %s", k, dir)
		}
	}
	states := map[string]map[string]string{"kafka": kafka, "s3": s3}
	// The Iceberg REST catalog is optional: only the Iceberg strategies
	// need it, and they say so when it is missing.
	if ice, err := readState(filepath.Join(dir, "iceberg", "state.env")); err == nil {
		cfg.IcebergREST = ice["ICEBERG_REST_URL"]
		states["iceberg"] = ice
	}
	cfg.Servers = serverPIDs(states)
	return cfg, nil
}

// serverPIDs finds the server processes in the state files: KAFKA_PID is
// "kafka", and a cluster's KAFKA_PID_2 "kafka-2". A pid no longer alive is
// left out.
func serverPIDs(states map[string]map[string]string) map[string]int {
	out := map[string]int{}
	for name, st := range states {
		for k, v := range st {
			_, node, ok := strings.Cut(k, "_PID")
			if !ok || (node != "" && node[0] != '_') {
				continue
			}
			pid, err := strconv.Atoi(v)
			if err != nil || pid <= 0 || syscall.Kill(pid, 0) != nil {
				continue
			}
			if node != "" {
				out[name+"-"+node[1:]] = pid
			} else {
				out[name] = pid
			}
		}
	}
	return out
}

// readState parses KEY=VALUE lines.
func readState(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s not found: the server is not running", path)
		}
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s: line %q is not KEY=VALUE", path, line)
		}
		out[k] = v
	}
	return out, sc.Err()
}

// LocalSCRAM returns the local broker's SASL_PLAINTEXT listener and the
// SCRAM-SHA-512 user that scripts/kafka.sh created for this start.
func LocalSCRAM(dir string) (brokers []string, sec Security, err error) {
	kafka, err := readState(filepath.Join(dir, "kafka", "state.env"))
	if err != nil {
		return nil, Security{}, fmt.Errorf("local stack: %w (start it with `make up`)", err)
	}
	b, user, pass := kafka["KAFKA_SASL_BROKERS"], kafka["KAFKA_SASL_USER"], kafka["KAFKA_SASL_PASSWORD"]
	if b == "" || user == "" || pass == "" {
		return nil, Security{}, fmt.Errorf("local stack: no SASL listener in %s (restart it with `make down up`)", dir)
	}
	return strings.Split(b, ","), Security{SASLMechanism: "scram-sha-512", SASLUser: user, SASLPassword: pass}, nil
}
