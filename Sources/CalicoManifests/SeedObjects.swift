import Foundation
import KubeCore

/// The seed-side `calico-monitoring` chart: dashboards ConfigMap and the
/// three ScrapeConfigs, all in the shoot namespace of the seed.
public enum SeedMonitoring {
    /// Release name of the monitoring chart.
    public static let releaseName = "calico-monitoring-config"
    /// Dashboard file names = ConfigMap data keys.
    public static let dashboardKeys = ["calico-felix-dashboard.json", "calico-typha-dashboard.json", "calico-bird-dashboard.json"]
    /// Legacy ConfigMap (named like the release), still deleted on Delete so no leftover stays.
    public static let legacyConfigMapName = "calico-monitoring-config"
    /// The ConfigMap carrying the Grafana dashboards for Felix, Typha and BIRD.
    public static let dashboardsConfigMapName = "calico-dashboards"
    /// The ScrapeConfigs that make the seed's Prometheus scrape Felix, Typha and BIRD of the shoot.
    public static let scrapeConfigNames = ["shoot-calico-felix", "shoot-calico-typha", "shoot-calico-bird"]

    /// The dashboards (file content with trailing newlines removed), loaded once from the bundle.
    public static let dashboards: [String: String] = {
        var result: [String: String] = [:]
        for key in dashboardKeys {
            let name = (key as NSString).deletingPathExtension
            guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Resources/dashboards"),
                let text = try? String(contentsOf: url, encoding: .utf8)
            else {
                fatalError("CalicoManifests: dashboard \(key) missing from the bundle")
            }
            var trimmed = Substring(text)
            while trimmed.last == "\n" || trimmed.last == "\r" { trimmed = trimmed.dropLast() }
            result[key] = String(trimmed)
        }
        return result
    }()

    /// The seed objects for the shoot namespace `namespace`, in apply order.
    public static func objects(namespace: String) -> [JSON] {
        var data: JSONObject = [:]
        for key in dashboardKeys { data[key] = .string(dashboards[key] ?? "") }
        let configMap = K.object(
            "v1", "ConfigMap",
            K.meta(
                dashboardsConfigMapName, namespace: namespace, labels: ["dashboard.monitoring.gardener.cloud/shoot": "true"]),
            [
                "data": .object(data)
            ])
        return [
            configMap,
            scrapeConfig(
                "shoot-calico-felix", namespace: namespace, metricsRegex: "felix_.+", job: "felix-metrics",
                keep: "calico-felix-monitoring;metrics"),
            scrapeConfig(
                "shoot-calico-typha", namespace: namespace, metricsRegex: "typha_.+", job: "typha-metrics",
                keep: "calico-typha-monitoring;metrics"),
            scrapeConfig(
                "shoot-calico-bird", namespace: namespace,
                metricsRegex: ["bird_protocol_up.*", "bird_protocol_prefix_export_count", "bird_protocol_prefix_import_count"]
                    .joined(separator: "|"),
                job: "bird-metrics", keep: "calico-bird-monitoring;bird-metrics"),
        ]
    }

    static func scrapeConfig(_ name: String, namespace: String, metricsRegex: String, job: String, keep: String) -> JSON {
        let credentials: JSON = ["name": "shoot-access-prometheus-shoot", "key": "token"]
        return K.object(
            "monitoring.coreos.com/v1alpha1", "ScrapeConfig", K.meta(name, namespace: namespace, labels: ["prometheus": "shoot"]),
            [
                "spec": [
                    "authorization": ["credentials": credentials],
                    "scheme": "HTTPS",
                    "tlsConfig": ["insecureSkipVerify": true],
                    "kubernetesSDConfigs": [
                        [
                            "apiServer": "https://kube-apiserver",
                            "authorization": ["credentials": credentials],
                            "followRedirects": true,
                            "namespaces": ["names": ["kube-system"]],
                            "role": "Endpoints",
                            "tlsConfig": ["insecureSkipVerify": true],
                        ]
                    ],
                    "metricRelabelings": [
                        [
                            "sourceLabels": ["__name__"], "action": "keep", "regex": .string(metricsRegex),
                        ]
                    ],
                    "relabelings": [
                        ["action": "replace", "replacement": .string(job), "targetLabel": "job"],
                        [
                            "sourceLabels": ["__meta_kubernetes_service_name", "__meta_kubernetes_pod_container_port_name"],
                            "separator": ";", "regex": .string(keep), "replacement": "$1", "action": "keep",
                        ],
                        [
                            "sourceLabels": ["__meta_kubernetes_endpoint_node_name"], "separator": ";", "regex": "(.*)",
                            "targetLabel": "node", "replacement": "$1", "action": "replace",
                        ],
                        [
                            "sourceLabels": ["__meta_kubernetes_pod_name"], "separator": ";", "regex": "(.*)",
                            "targetLabel": "pod", "replacement": "$1", "action": "replace",
                        ],
                        ["targetLabel": "__address__", "replacement": "kube-apiserver:443"],
                        [
                            "sourceLabels": ["__meta_kubernetes_pod_name", "__meta_kubernetes_pod_container_port_number"],
                            "separator": ";", "regex": "(.+);(.+)", "targetLabel": "__metrics_path__",
                            "replacement": "/api/v1/namespaces/kube-system/pods/${1}:${2}/proxy/metrics", "action": "replace",
                        ],
                    ],
                ]
            ])
    }
}
