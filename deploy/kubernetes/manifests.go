// Package kubernetes holds the manifests that run one distributed tickbench
// run on a Kubernetes cluster (this folder's *.yaml), and reads them with the
// Kubernetes API's own Go types for the checks of `make test`: every
// document decodes strictly (unknown fields and wrong types fail), every
// reference resolves, and Commands gives each container's command line as
// the kubelet would run it, for cmd/tickbench's test to parse with
// tickbench's own flags. Nothing in the tickbench binary imports it.
package kubernetes

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Manifests are the decoded documents of a folder, by kind.
type Manifests struct {
	ConfigMaps      map[string]*corev1.ConfigMap
	ServiceAccounts map[string]*corev1.ServiceAccount
	Jobs            []*batchv1.Job
}

// Load decodes every *.yaml file of dir.
func Load(dir string) (*Manifests, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *.yaml in %s", dir)
	}
	m := &Manifests{ConfigMaps: map[string]*corev1.ConfigMap{}, ServiceAccounts: map[string]*corev1.ServiceAccount{}}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if err := m.Decode(filepath.Base(f), data); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Decode adds the YAML documents of data (from the file name) to m. A
// document must be of a kind listed here, and decode into its API type with
// no unknown or duplicate field and no value of the wrong type.
func (m *Manifests) Decode(name string, data []byte) error {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 1; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			return fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		if tm == (metav1.TypeMeta{}) {
			continue // comments only
		}
		var obj interface{ GetName() string }
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1 ServiceAccount":
			obj = &corev1.ServiceAccount{}
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		default:
			return fmt.Errorf("%s: document %d: apiVersion %q kind %q: allowed v1 ConfigMap, v1 ServiceAccount, batch/v1 Job", name, i, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			return fmt.Errorf("%s: document %d (%s): %w", name, i, tm.Kind, err)
		}
		where := fmt.Sprintf("%s: %s %q", name, tm.Kind, obj.GetName())
		if obj.GetName() == "" {
			return fmt.Errorf("%s: document %d (%s): metadata.name missing", name, i, tm.Kind)
		}
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			if m.ConfigMaps[o.Name] != nil {
				return fmt.Errorf("%s: defined twice", where)
			}
			m.ConfigMaps[o.Name] = o
		case *corev1.ServiceAccount:
			m.ServiceAccounts[o.Name] = o
		case *batchv1.Job:
			m.Jobs = append(m.Jobs, o)
		}
	}
}

// A Command is one container of one pod of a Job, as the kubelet runs it.
type Command struct {
	// Pod names the Job and, for an Indexed Job, the completion index.
	Pod       string
	Container string
	// Args are the arguments to the image's entrypoint (tickbench), with
	// $(VAR) references expanded.
	Args []string
	// Env is the container's environment.
	Env map[string]string
	// Files are the ConfigMap keys mounted into the container, by path.
	Files map[string]string
}

// varRef is a $(VAR) reference of a container's args; $$ escapes it.
var varRef = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// Commands returns every container's command line of every pod the Jobs
// start (one per completion index for Indexed Jobs). It fails on what the
// cluster would only find at run time: a ConfigMap or key that does not
// exist, a $(VAR) no variable defines, a container that replaces the
// image's entrypoint, a pod that restarts forever.
func (m *Manifests) Commands() ([]Command, error) {
	var out []Command
	for _, job := range m.Jobs {
		where := fmt.Sprintf("Job %q", job.Name)
		spec := job.Spec.Template.Spec
		if p := spec.RestartPolicy; p != corev1.RestartPolicyNever && p != corev1.RestartPolicyOnFailure {
			return nil, fmt.Errorf("%s: restartPolicy %q: allowed Never, OnFailure", where, p)
		}
		if sa := spec.ServiceAccountName; sa != "" && m.ServiceAccounts[sa] == nil {
			return nil, fmt.Errorf("%s: serviceAccountName %q: no such ServiceAccount", where, sa)
		}
		indexes := []int{-1}
		if job.Spec.CompletionMode != nil && *job.Spec.CompletionMode == batchv1.IndexedCompletion {
			if job.Spec.Completions == nil || *job.Spec.Completions < 1 {
				return nil, fmt.Errorf("%s: an Indexed Job needs completions >= 1", where)
			}
			indexes = indexes[:0]
			for i := range int(*job.Spec.Completions) {
				indexes = append(indexes, i)
			}
		}
		files, err := m.volumeFiles(where, spec.Volumes)
		if err != nil {
			return nil, err
		}
		for _, index := range indexes {
			pod := job.Name
			if index >= 0 {
				pod += "-" + strconv.Itoa(index)
			}
			for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
				cmd, err := m.command(pod, c, index, files)
				if err != nil {
					return nil, fmt.Errorf("%s, container %q: %w", where, c.Name, err)
				}
				out = append(out, cmd)
			}
		}
	}
	return out, nil
}

// volumeFiles maps each ConfigMap volume to its keys' contents.
func (m *Manifests) volumeFiles(where string, vols []corev1.Volume) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for _, v := range vols {
		if v.ConfigMap == nil {
			continue
		}
		cm := m.ConfigMaps[v.ConfigMap.Name]
		if cm == nil {
			return nil, fmt.Errorf("%s: volume %q: no ConfigMap %q", where, v.Name, v.ConfigMap.Name)
		}
		out[v.Name] = cm.Data
	}
	return out, nil
}

func (m *Manifests) command(pod string, c corev1.Container, index int, files map[string]map[string]string) (Command, error) {
	if len(c.Command) > 0 {
		return Command{}, fmt.Errorf("command %q replaces the image's entrypoint (tickbench): give args only", c.Command)
	}
	if c.Image == "" {
		return Command{}, errors.New("no image")
	}
	env := map[string]string{}
	if index >= 0 {
		// The Job controller sets it in every container of an Indexed Job.
		env["JOB_COMPLETION_INDEX"] = strconv.Itoa(index)
	}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef == nil {
			return Command{}, errors.New("envFrom: only configMapRef is checked here")
		}
		cm := m.ConfigMaps[from.ConfigMapRef.Name]
		if cm == nil {
			return Command{}, fmt.Errorf("envFrom: no ConfigMap %q", from.ConfigMapRef.Name)
		}
		for k, v := range cm.Data {
			env[from.Prefix+k] = v
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = expand(e.Value, env)
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm := m.ConfigMaps[ref.Name]
			if cm == nil {
				return Command{}, fmt.Errorf("env %s: no ConfigMap %q", e.Name, ref.Name)
			}
			v, ok := cm.Data[ref.Key]
			if !ok {
				return Command{}, fmt.Errorf("env %s: ConfigMap %q has no key %q", e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = v
		case e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name":
			env[e.Name] = pod + "-x7k2p" // a pod's name: its Job's, and a random suffix
		default:
			return Command{}, fmt.Errorf("env %s: only value, configMapKeyRef and fieldRef metadata.name are checked here", e.Name)
		}
	}
	cmd := Command{Pod: pod, Container: c.Name, Env: env, Files: map[string]string{}}
	for _, a := range c.Args {
		for _, ref := range varRef.FindAllStringSubmatch(a, -1) {
			if _, ok := env[ref[1]]; ref[1] != "" && !ok {
				return Command{}, fmt.Errorf("arg %q: $(%s) is not a variable of the container (the kubelet would pass it as is)", a, ref[1])
			}
		}
		cmd.Args = append(cmd.Args, expand(a, env))
	}
	for _, vm := range c.VolumeMounts {
		data, ok := files[vm.Name]
		if !ok {
			continue
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			cmd.Files[vm.MountPath+"/"+k] = data[k]
		}
	}
	return cmd, nil
}

// expand replaces $(VAR) with env's VAR as the kubelet does: $$ is a
// literal $, and a reference to an undefined variable stays as it is.
func expand(s string, env map[string]string) string {
	return varRef.ReplaceAllStringFunc(s, func(ref string) string {
		if ref == "$$" {
			return "$"
		}
		if v, ok := env[ref[2:len(ref)-1]]; ok {
			return v
		}
		return ref
	})
}
