{{- define "name" -}}
gardener-extension-admission-calico
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

{{- define "global" -}}
{{- .Values.global | default dict | toJson -}}
{{- end -}}

{{/* "true" when the target cluster differs from this runtime cluster (either values layout). */}}
{{- define "virtualMode" -}}
{{- $global := include "global" . | fromJson -}}
{{- $vg := $global.virtualGarden | default dict -}}
{{- if hasKey $vg "enabled" -}}
{{- if $vg.enabled }}true{{ end -}}
{{- else if and .Values.gardener .Values.gardener.virtualCluster .Values.gardener.virtualCluster.enabled -}}
true
{{- end -}}
{{- end -}}

{{/* The literal kubeconfig of the target cluster, from either layout (they must agree). */}}
{{- define "kubeconfig" -}}
{{- $global := include "global" . | fromJson -}}
{{- if and .Values.kubeconfig $global.kubeconfig (ne (toString .Values.kubeconfig) (toString $global.kubeconfig)) -}}
{{- fail "set either .Values.kubeconfig or .Values.global.kubeconfig, not two different kubeconfigs" -}}
{{- end -}}
{{- .Values.kubeconfig | default $global.kubeconfig | default "" -}}
{{- end -}}

{{/* "true" when a kubelet-rotated projected service account token is mounted (older layout). */}}
{{- define "tokenProjection" -}}
{{- $global := include "global" . | fromJson -}}
{{- $p := $global.serviceAccountTokenVolumeProjection | default dict -}}
{{- if $p.enabled }}true{{ end -}}
{{- end -}}

{{- define "tokenProjection.dir" -}}
/var/run/secrets/projected/serviceaccount
{{- end -}}

{{- define "kubeconfig.dir" -}}
/etc/{{ include "name" . }}/kubeconfig
{{- end -}}

{{/* Argument: the runtime cluster's Kubernetes version (.Capabilities.KubeVersion.Version). */}}
{{- define "trafficDistribution" -}}
{{- if semverCompare ">= 1.34-0" . -}}
PreferSameZone
{{- else -}}
PreferClose
{{- end -}}
{{- end -}}
