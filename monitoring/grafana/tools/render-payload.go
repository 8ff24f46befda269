// render-payload executes Grafana notification templates the way Grafana 12 does for a webhook
// contact point's custom payload (settings.payload.template), so tests can see the exact HTTP body
// Grafana will send. Go's own text/template, the template data Grafana passes (ExtendedData, from
// github.com/grafana/alerting/templates/template_data.go) and the gomplate functions Grafana adds
// (coll.Dict, coll.Slice, coll.Append, data.ToJSON, data.ToJSONPretty: the same code as
// github.com/grafana/alerting/templates/gomplate; data.JSON here parses JSON only, Grafana's also
// YAML). Every function here exists in Grafana; a template using one missing here fails to parse.
// Standard library only.
//
// Input on stdin, JSON: {"templates": ["{{ define ... }}", ...], "payload": "{{ template ... }}",
// "data": ExtendedData}. Output on stdout: the rendered body. Run: go run render-payload.go
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"text/template"
	"time"
)

type KV map[string]string

type ExtendedAlert struct {
	Status       string             `json:"status"`
	Labels       KV                 `json:"labels"`
	Annotations  KV                 `json:"annotations"`
	StartsAt     time.Time          `json:"startsAt"`
	EndsAt       time.Time          `json:"endsAt"`
	GeneratorURL string             `json:"generatorURL"`
	Fingerprint  string             `json:"fingerprint"`
	SilenceURL   string             `json:"silenceURL"`
	DashboardURL string             `json:"dashboardURL"`
	PanelURL     string             `json:"panelURL"`
	Values       map[string]float64 `json:"values"`
	ValueString  string             `json:"valueString"`
	ImageURL     string             `json:"imageURL,omitempty"`
	OrgID        *int64             `json:"orgId,omitempty"`
}

type ExtendedAlerts []ExtendedAlert

func (as ExtendedAlerts) Firing() []ExtendedAlert   { return as.filter("firing") }
func (as ExtendedAlerts) Resolved() []ExtendedAlert { return as.filter("resolved") }
func (as ExtendedAlerts) filter(status string) []ExtendedAlert {
	res := []ExtendedAlert{}
	for _, a := range as {
		if a.Status == status {
			res = append(res, a)
		}
	}
	return res
}

type ExtendedData struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            ExtendedAlerts    `json:"alerts"`
	GroupLabels       KV                `json:"groupLabels"`
	CommonLabels      KV                `json:"commonLabels"`
	CommonAnnotations KV                `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   *int              `json:"truncatedAlerts,omitempty"`
	Vars              map[string]string `json:"vars"`
}

type CollFuncs struct{}

func (CollFuncs) Dict(in ...any) (map[string]any, error) {
	dict := map[string]any{}
	for i := 0; i < len(in); i += 2 {
		key := fmt.Sprint(in[i])
		if i+1 >= len(in) {
			dict[key] = ""
			continue
		}
		dict[key] = in[i+1]
	}
	return dict, nil
}

func (CollFuncs) Slice(args ...any) []any { return args }

func (CollFuncs) Append(v any, list any) ([]any, error) {
	if s, ok := list.([]any); ok {
		return append(s, v), nil
	}
	s := reflect.ValueOf(list)
	if s.Kind() != reflect.Slice && s.Kind() != reflect.Array {
		return nil, fmt.Errorf("expected an array or slice, but got a %T", list)
	}
	out := make([]any, s.Len())
	for i := range out {
		out[i] = s.Index(i).Interface()
	}
	return append(out, v), nil
}

type DataFuncs struct{}

func (DataFuncs) JSON(in any) (any, error) {
	var out any
	err := json.Unmarshal([]byte(fmt.Sprint(in)), &out)
	return out, err
}

func (DataFuncs) ToJSON(in any) (string, error) {
	b, err := json.Marshal(in)
	return string(b), err
}

func (DataFuncs) ToJSONPretty(indent string, in any) (string, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	out := new(bytes.Buffer)
	err = json.Indent(out, b, "", indent)
	return out.String(), err
}

type input struct {
	Templates []string     `json:"templates"`
	Payload   string       `json:"payload"`
	Data      ExtendedData `json:"data"`
}

func main() {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		fail("parsing input: %v", err)
	}
	if in.Data.Vars == nil {
		in.Data.Vars = map[string]string{}
	}
	funcs := template.FuncMap{
		"coll":    func() any { return CollFuncs{} },
		"data":    func() any { return DataFuncs{} },
		"toUpper": strings.ToUpper,
		"toLower": strings.ToLower,
		"join":    func(sep string, s []string) string { return strings.Join(s, sep) },
	}
	// Like Alertmanager's template.Template: unknown keys render as zero values.
	tmpl := template.New("").Option("missingkey=zero").Funcs(funcs)
	for i, t := range in.Templates {
		if _, err := tmpl.New(fmt.Sprintf("provisioned-%d", i)).Parse(t); err != nil {
			fail("template %d does not parse: %v", i, err)
		}
	}
	payload, err := tmpl.New("payload").Parse(in.Payload)
	if err != nil {
		fail("payload template does not parse: %v", err)
	}
	var out bytes.Buffer
	if err := payload.Execute(&out, in.Data); err != nil {
		fail("payload template failed: %v", err)
	}
	os.Stdout.Write(out.Bytes())
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
