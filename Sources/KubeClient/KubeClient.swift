// Module KubeClient: a Kubernetes client with client-go's configuration, authentication and
// error semantics (see docs/kubeclient.md).
//
// Files: ClientConfiguration (what to connect to), Kubeconfig (loading, merging, in-cluster),
// KubernetesClient + Transport (verbs, rate limiting, retries), Watch (event streams),
// KubeError (Status decoding), Resource, Options, Models (typed views), TypedClient.
