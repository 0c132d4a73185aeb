{{- define "name" -}}
gardener-extension-networking-calico
{{- end -}}

{{- define "labels" -}}
app.kubernetes.io/name: {{ include "name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "image" -}}
{{- if .Values.image.ref -}}
{{ .Values.image.ref }}
{{- else if hasPrefix "sha256:" (toString .Values.image.tag) -}}
{{ .Values.image.repository }}@{{ .Values.image.tag }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end -}}
{{- end -}}

{{- define "metricsPort" -}}
{{ tpl (toString .Values.metricsPort) . }}
{{- end -}}

{{- define "healthPort" -}}
{{ tpl (toString .Values.healthPort) . }}
{{- end -}}

{{- define "topologyAwareRouting.enabled" -}}
{{- if .Values.gardener.seed -}}
{{- if and .Values.gardener.seed.spec .Values.gardener.seed.spec.settings .Values.gardener.seed.spec.settings.topologyAwareRouting .Values.gardener.seed.spec.settings.topologyAwareRouting.enabled -}}
true
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Service traffic distribution: the value name changed with Kubernetes 1.34. */}}
{{/* Argument: the runtime cluster's Kubernetes version (.Capabilities.KubeVersion.Version). */}}
{{- define "trafficDistribution" -}}
{{- if semverCompare ">= 1.34-0" . -}}
PreferSameZone
{{- else -}}
PreferClose
{{- end -}}
{{- end -}}

{{- define "configPath" -}}
/etc/{{ include "name" . }}/config
{{- end -}}
