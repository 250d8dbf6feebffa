{{/* Shared by every kube-iaas operator chart (scripts/package/chart); the package adds its own files. */}}
{{- define "kube-iaas.fullname" -}}
{{- if .Values.fullnameOverride -}}{{ .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}{{- else -}}kube-iaas-{{ .Chart.Name }}{{- end -}}
{{- end -}}

{{- define "kube-iaas.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "kube-iaas.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{- define "kube-iaas.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: kube-iaas
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}

{{- define "kube-iaas.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "kube-iaas.image" -}}
{{ .Values.image.repository }}{{ if .Values.image.digest }}@{{ .Values.image.digest }}{{ else }}:{{ default .Chart.AppVersion .Values.image.tag }}{{ end }}
{{- end -}}

{{/* What every container of the chart runs under: the restricted Pod Security Standard. */}}
{{- define "kube-iaas.restrictedContainer" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
--name=value for every flag, lists comma-joined as the binary parses them. Empty ones too: a flag given
wins over the environment, and IRSA's webhook sets AWS_ROLE_ARN, which --aws-role-arn would otherwise
read and then assume that role a second time.
*/}}
{{- define "kube-iaas.flagArgs" -}}
{{- range $k, $v := .Values.flags }}
{{- if kindIs "slice" $v }}
- --{{ $k }}={{ join "," $v }}
{{- else }}
- --{{ $k }}={{ $v }}
{{- end }}
{{- end }}
{{- end -}}
