{{/* The base name of every object: the release name, or "<release>-kubeharden". */}}
{{- define "kubeharden.fullname" -}}
{{- if contains "kubeharden" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-kubeharden" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kubeharden.labels" -}}
app.kubernetes.io/name: kubeharden
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component (webhook, audit). */}}
{{- define "kubeharden.selector" -}}
app.kubernetes.io/name: kubeharden
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "kubeharden.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Pod template annotations: the one suppression, only while the image has no digest. */}}
{{- define "kubeharden.ignoreAnnotations" -}}
{{- if not .Values.image.digest -}}
kubeharden.io/ignore: image-not-pinned-by-digest
kubeharden.io/ignore-reason: "image.digest is not set (a local build of tools/image.sh has no registry digest): set image.digest to the pushed image's sha256 digest"
{{- end -}}
{{- end -}}

{{- define "kubeharden.webhookName" -}}
{{- printf "%s-webhook" (include "kubeharden.fullname" .) -}}
{{- end -}}

{{- define "kubeharden.webhookSecret" -}}
{{- .Values.webhook.tls.secretName | default (printf "%s-tls" (include "kubeharden.webhookName" .)) -}}
{{- end -}}

{{- define "kubeharden.auditName" -}}
{{- printf "%s-audit" (include "kubeharden.fullname" .) -}}
{{- end -}}

{{/* The hardened container securityContext both components use. */}}
{{- define "kubeharden.containerSecurityContext" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
{{- end -}}

{{- define "kubeharden.podSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 65532
  runAsGroup: 65532
  seccompProfile:
    type: RuntimeDefault
{{- end -}}
