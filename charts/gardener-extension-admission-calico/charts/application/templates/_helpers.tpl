{{- define "name" -}}
gardener-extension-admission-calico
{{- end -}}

{{- define "labels" -}}
app.kubernetes.io/name: {{ include "name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* "true" when the webhook runs in another cluster than this one (either values layout). */}}
{{- define "virtualMode" -}}
{{- $global := .Values.global | default dict -}}
{{- $vg := $global.virtualGarden | default dict -}}
{{- if hasKey $vg "enabled" -}}
{{- if $vg.enabled }}true{{ end -}}
{{- else if and .Values.gardener .Values.gardener.virtualCluster .Values.gardener.virtualCluster.enabled -}}
true
{{- end -}}
{{- end -}}

{{/* Name of the User subject (older layout), empty when a ServiceAccount is bound. */}}
{{- define "userName" -}}
{{- $global := .Values.global | default dict -}}
{{- $vg := $global.virtualGarden | default dict -}}
{{- $user := $vg.user | default dict -}}
{{- $user.name | default "" -}}
{{- end -}}

{{- define "serviceAccount" -}}
{{- $vc := dict -}}
{{- if .Values.gardener -}}{{- $vc = .Values.gardener.virtualCluster | default dict -}}{{- end -}}
{{- $vc.serviceAccount | default dict | toJson -}}
{{- end -}}
