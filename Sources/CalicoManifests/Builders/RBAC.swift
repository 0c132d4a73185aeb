import KubeCore

/// ClusterRoles, bindings and ServiceAccounts of calico-node, the CNI plugin, kube-controllers
/// and the tier getter, with the rules each component needs. The autoscaler and multus RBAC live with their objects.
enum CalicoRBAC {
    static let core = ""
    static let calico = "crd.projectcalico.org"

    static let calicoNodeRole = K.clusterRole(
        "calico-node",
        [
            K.rule([core], ["serviceaccounts/token"], ["create"], resourceNames: ["calico-cni-plugin"]),
            K.rule([core], ["pods", "nodes", "namespaces"], ["get"]),
            K.rule(["discovery.k8s.io"], ["endpointslices"], ["watch", "list"]),
            K.rule([core], ["endpoints", "services"], ["watch", "list", "get"]),
            K.rule([core], ["configmaps"], ["get"]),
            K.rule([core], ["nodes/status"], ["patch", "update"]),
            K.rule(["networking.k8s.io"], ["networkpolicies"], ["watch", "list"]),
            K.rule(["policy.networking.k8s.io"], ["adminnetworkpolicies", "baselineadminnetworkpolicies"], ["watch", "list"]),
            K.rule([core], ["pods", "namespaces", "serviceaccounts"], ["list", "watch"]),
            K.rule([core], ["pods/status"], ["patch"]),
            K.rule(
                [calico],
                [
                    "globalfelixconfigs", "felixconfigurations", "bgppeers", "bgpfilters", "globalbgpconfigs", "bgpconfigurations",
                    "ippools", "ipreservations", "ipamblocks", "globalnetworkpolicies", "stagedglobalnetworkpolicies",
                    "globalnetworksets", "networkpolicies", "stagednetworkpolicies", "stagedkubernetesnetworkpolicies", "networksets",
                    "clusterinformations", "hostendpoints", "blockaffinities", "caliconodestatuses", "tiers",
                ], ["get", "list", "watch"]),
            K.rule([calico], ["tiers"], ["create"]),
            K.rule([calico], ["ippools", "felixconfigurations", "clusterinformations"], ["create", "update"]),
            K.rule([calico], ["caliconodestatuses"], ["update"]),
            K.rule([core], ["nodes"], ["get", "list", "watch"]),
            K.rule([calico], ["bgpconfigurations", "bgppeers"], ["create", "update"]),
            K.rule([calico], ["blockaffinities", "ipamblocks", "ipamhandles"], ["get", "list", "create", "update", "delete"]),
            K.rule([calico], ["ipamconfigs"], ["get", "create"]),
            K.rule([calico], ["blockaffinities"], ["watch"]),
            K.rule(["apps"], ["daemonsets"], ["get"]),
        ])

    static let cniPluginRole = K.clusterRole(
        "calico-cni-plugin",
        [
            K.rule([core], ["pods", "nodes", "namespaces"], ["get"]),
            K.rule([core], ["pods/status"], ["patch"]),
            K.rule(
                [calico],
                [
                    "blockaffinities", "ipamblocks", "ipamhandles", "clusterinformations", "ippools", "ipreservations", "ipamconfigs",
                ], ["get", "list", "create", "update", "delete"]),
        ])

    static let kubeControllersRole = K.clusterRole(
        "calico-kube-controllers",
        [
            K.rule([core], ["nodes"], ["watch", "list", "get"]),
            K.rule([core], ["pods"], ["get", "list", "watch"]),
            K.rule([core], ["namespaces"], ["get", "list", "watch"]),
            K.rule([core], ["services", "services/status"], ["get", "list", "update", "watch"]),
            K.rule([calico], ["ipreservations"], ["list"]),
            K.rule(
                [calico], ["blockaffinities", "ipamblocks", "ipamhandles", "ipamconfigs", "tiers"],
                [
                    "get", "list", "create", "update", "delete", "watch",
                ]),
            K.rule([calico], ["ippools"], ["list", "watch"]),
            K.rule([calico], ["hostendpoints"], ["get", "list", "create", "update", "delete", "watch"]),
            K.rule([calico], ["clusterinformations"], ["get", "list", "create", "update", "watch"]),
            K.rule([calico], ["kubecontrollersconfigurations"], ["get", "list", "create", "update", "watch"]),
        ])

    static let tierGetterRole = K.clusterRole("calico-tier-getter", [K.rule(["projectcalico.org"], ["tiers"], ["get"])])

    static let tierGetterBinding = K.clusterRoleBinding(
        "calico-tier-getter",
        subjects: [
            ["apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:kube-controller-manager"]
        ])

    /// kube-controllers RBAC and ServiceAccount (only while kube-controllers runs: backend not `none`).
    static func kubeControllers() -> [JSON] {
        [
            kubeControllersRole,
            K.clusterRoleBinding("calico-kube-controllers", subjects: [K.saSubject("calico-kube-controllers")]),
            K.serviceAccount("calico-kube-controllers"),
        ]
    }
}
