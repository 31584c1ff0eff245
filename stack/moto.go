package stack

import (
	"fmt"
	"path/filepath"
)

// LocalAWS returns the endpoint and region of the AWS API peer (moto in
// server mode) that scripts/moto.sh started, from its state file under dir
// (normally LocalStateDir).
func LocalAWS(dir string) (endpoint, region string, err error) {
	st, err := readState(filepath.Join(dir, "moto", "state.env"))
	if err != nil {
		return "", "", fmt.Errorf("local AWS API peer: %w (start it with `make up`)", err)
	}
	if st["MOTO_ENDPOINT"] == "" {
		return "", "", fmt.Errorf("local AWS API peer: MOTO_ENDPOINT missing from %s", filepath.Join(dir, "moto", "state.env"))
	}
	region = st["MOTO_REGION"]
	if region == "" {
		region = "us-east-1"
	}
	return st["MOTO_ENDPOINT"], region, nil
}
