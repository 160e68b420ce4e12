{{/* Names and labels. */}}
{{- define "crm.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "crm.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "task"). */}}
{{- define "crm.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "crm.image" -}}
{{- printf "%s/%s:%s" .root.Values.image.repository .component (default .root.Chart.AppVersion .root.Values.image.tag) -}}
{{- end -}}

{{- define "crm.secretName" -}}
{{- default (printf "%s-secrets" (include "crm.fullname" .)) .Values.existingSecret -}}
{{- end -}}

{{/* The environment every component shares: the secrets and, with TLS,
     its certificate's files. (dict "root" $ "component" "task") */}}
{{- define "crm.env" -}}
- name: CRM_INTERNAL_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "crm.secretName" .root }}
      key: internal-key
- name: CRM_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "crm.secretName" .root }}
      key: database-url
{{- include "crm.tlsEnv" . }}
{{- end -}}

{{/* The components, each with the certificate it presents when TLS is on. */}}
{{- define "crm.components" -}}
{{- $names := list "identity" "customer" "contract" "task" "notifier" "worker" "gateway" "migrate" -}}
{{- if .Values.temporalUI.enabled }}{{ $names = append $names "temporal-ui" }}{{ end -}}
{{- join " " $names -}}
{{- end -}}

{{/* The Secret (kubernetes.io/tls: ca.crt, tls.crt, tls.key) holding a
     component's certificate. */}}
{{- define "crm.tlsSecret" -}}
{{- default (printf "%s-%s-tls" (include "crm.fullname" .root) .component) (index .root.Values.tls.secretNames .component) -}}
{{- end -}}

{{/* CRM_TLS_*: the files of the mounted certificate Secret. */}}
{{- define "crm.tlsEnv" -}}
{{- if .root.Values.tls.enabled }}
{{- $dir := .root.Values.tls.mountPath }}
- name: CRM_TLS_CA_FILE
  value: {{ printf "%s/ca.crt" $dir | quote }}
- name: CRM_TLS_CERT_FILE
  value: {{ printf "%s/tls.crt" $dir | quote }}
- name: CRM_TLS_KEY_FILE
  value: {{ printf "%s/tls.key" $dir | quote }}
{{- end }}
{{- end -}}

{{/* The certificate Secret's mount, with TLS on. */}}
{{- define "crm.tlsMount" -}}
- name: tls
  mountPath: {{ .root.Values.tls.mountPath }}
  readOnly: true
{{- end -}}

{{/* Pod-level settings every component shares: (dict "root" $ "component" "task"). */}}
{{- define "crm.podSpec" -}}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
automountServiceAccountToken: false
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: data
    emptyDir: {}
  {{- if .root.Values.tls.enabled }}
  # The Secret is mounted whole, not by subPath, so a renewed certificate
  # reaches the running process.
  - name: tls
    secret:
      secretName: {{ include "crm.tlsSecret" . }}
      defaultMode: 0440
  {{- end }}
{{- end -}}

{{/* A gRPC service's probe. Kubernetes' own gRPC probe cannot present a
     certificate, so with TLS crm-probe asks instead, over mutual TLS with
     the container's own (it reads the same CRM_TLS_*). */}}
{{- define "crm.grpcProbe" -}}
{{- if .Values.tls.enabled -}}
exec: {command: [crm-probe, grpc, "127.0.0.1:9090"]}
timeoutSeconds: 5
{{- else -}}
grpc: {port: 9090}
{{- end -}}
{{- end -}}

{{- define "crm.podAnnotations" -}}
checksum/config: {{ include (print .Template.BasePath "/config.yaml") . | sha256sum }}
{{- if .Values.metrics.annotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .Values.metrics.port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}

{{/* A container's common part: image, security, config, data folder;
     its env list follows (start it with crm.env). */}}
{{- define "crm.container" -}}
image: {{ include "crm.image" . }}
imagePullPolicy: {{ .root.Values.image.pullPolicy }}
securityContext:
  {{- toYaml .root.Values.securityContext | nindent 2 }}
volumeMounts:
  - name: data
    mountPath: /home/nonroot/data
  {{- if .root.Values.tls.enabled }}
  {{- include "crm.tlsMount" . | nindent 2 }}
  {{- end }}
envFrom:
  - configMapRef:
      name: {{ include "crm.fullname" .root }}-config
{{- end -}}

{{/* The Go runtime's limits of one container, from its resources:
     GOMEMLIMIT at 90% of the memory limit, so the garbage collector works
     harder before the kernel would kill the process (GOMAXPROCS follows the
     CPU limit by itself). (dict "component" "identity" "resources" ...) */}}
{{- define "crm.runtimeEnv" -}}
{{- $limits := default dict .resources.limits -}}
{{- $cpu := required (printf "%s.resources.limits.cpu must be set: every component has a CPU limit" .component) $limits.cpu -}}
{{- $mem := toString (required (printf "%s.resources.limits.memory must be set: every component has a memory limit" .component) $limits.memory) -}}
{{- $mib := 0 -}}
{{- if hasSuffix "Gi" $mem -}}
{{- $mib = mul (atoi (trimSuffix "Gi" $mem)) 1024 -}}
{{- else if hasSuffix "Mi" $mem -}}
{{- $mib = atoi (trimSuffix "Mi" $mem) -}}
{{- end -}}
{{- if le $mib 0 -}}
{{- fail (printf "%s.resources.limits.memory is %q: give it in Mi or Gi (e.g. 256Mi)" .component $mem) -}}
{{- end -}}
- name: GOMEMLIMIT
  value: {{ printf "%dMiB" (div (mul $mib 9) 10) | quote }}
{{- end -}}
