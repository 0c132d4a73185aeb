import KubeCore

/// The `calico-config` ConfigMap with the CNI network configuration template that calico-node's
/// `install-cni` init container fills in on every node; the IPAM plugin and its subnets come from the values.
enum CNIConfig {
    /// The conflist template `install-cni` fills in (`__CNI_MTU__` is unquoted on purpose).
    static func networkConfig(_ v: CalicoValues) -> String {
        var ipam = "        \"type\": \"\(v.ipam.type)\",\n"
        if !v.ipam.subnet.isEmpty { ipam += "        \"subnet\": \"\(v.ipam.subnet)\",\n" }
        if !v.ipam.ranges.isEmpty {
            let ranges = v.ipam.ranges.map { "[{\"subnet\":\"\($0)\"}]" }.joined(separator: ",")
            ipam += "        \"ranges\": [\(ranges)],\n"
        }
        ipam += "        \"assign_ipv4\": \"\(v.ipam.assignIPv4)\",\n"
        ipam += "        \"assign_ipv6\": \"\(v.ipam.assignIPv6)\"\n"
        return """
            {
              "name": "k8s-pod-network",
              "cniVersion": "0.3.1",
              "plugins": [
                {
                  "type": "calico",
                  "log_level": "error",
                  "log_file_path": "/var/log/calico/cni/cni.log",
                  "datastore_type": "kubernetes",
                  "nodename": "__KUBERNETES_NODE_NAME__",
                  "mtu": __CNI_MTU__,
                  "ipam": {
            \(ipam)      },
                  "policy": {
                    "type": "k8s"
                  },
                  "kubernetes": {
                    "kubeconfig": "__KUBECONFIG_FILEPATH__"
                  }
                },
                {
                  "type": "portmap",
                  "snat": true,
                  "capabilities": {"portMappings": true}
                }
              ]
            }
            """
    }

    /// ConfigMap `calico-config`.
    static func configMap(_ v: CalicoValues) -> JSON {
        K.object(
            "v1", "ConfigMap", K.meta("calico-config"),
            [
                "data": [
                    "typha_service_name": .string(v.typhaEnabled ? "calico-typha" : "none"),
                    "calico_backend": .string(v.backend),
                    "veth_mtu": .string(v.vethMTU),
                    "cni_network_config": .string(networkConfig(v)),
                ]
            ])
    }
}
