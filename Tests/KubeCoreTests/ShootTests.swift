import KubeCore
import Testing

/// The one Shoot view: typed, lenient accessors over the raw object.
@Suite struct ShootTests {
    static let example: JSON = [
        "metadata": ["name": "a", "namespace": "garden-p", "annotations": ["confirmation.gardener.cloud/force-deletion": "true", "n": 1]],
        "spec": [
            "provider": ["type": "local", "workers": [["name": "w1"], ["name": "w2"]]],
            "kubernetes": [
                "version": "1.33.2", "kubeProxy": ["mode": "NFTables"],
                "kubeAPIServer": [
                    "featureGates": ["MutatingAdmissionPolicy": true], "runtimeConfig": ["admissionregistration.k8s.io/v1alpha1": false],
                ],
            ],
            "networking": ["type": "calico", "pods": "10.0.0.0/16", "nodes": "10.250.0.0/16", "providerConfig": ["backend": "bird"]],
        ],
        "status": [
            "networking": ["pods": ["10.0.0.0/16", "fd00::/48"], "services": ["10.1.0.0/16"]],
            "constraints": [["type": "DualStackNodesMigrationReady", "status": "False"], "not-an-object"],
            "lastOperation": ["type": "Create", "state": "Processing"],
        ],
    ]

    @Test func typedAccessors() {
        let s = Shoot(raw: Self.example)
        #expect(s.name == "a" && s.namespace == "garden-p")
        #expect(s.annotations == ["confirmation.gardener.cloud/force-deletion": "true"])
        #expect(s.needsForceDeletion)
        #expect(s.providerType == "local" && s.workerCount == 2 && !s.isWorkerless)
        #expect(s.kubernetesVersion == "1.33.2")
        #expect(s.kubeProxy == .init(enabled: nil, mode: "NFTables") && s.kubeProxyEnabled)
        #expect(s.kubeAPIServerFeatureGate("MutatingAdmissionPolicy") == true)
        #expect(s.kubeAPIServerRuntimeConfig("admissionregistration.k8s.io/v1alpha1") == false)
        #expect(s.kubeAPIServerRuntimeConfig("other") == nil)
        #expect(!s.wantsVerticalPodAutoscaler)
        #expect(s.networking?.type == "calico")
        #expect(s.networking?.providerConfig == ["backend": "bird"])
        #expect(s.networking?.effectiveIPFamilies == ["IPv4"])
        #expect(s.podNetworks == ["10.0.0.0/16", "fd00::/48"])
        #expect(s.serviceNetworks == ["10.1.0.0/16"])
        #expect(s.nodeNetworks == ["10.250.0.0/16"])
        #expect(s.constraints.count == 1)
        #expect(s.constraint("DualStackNodesMigrationReady")?.status == "False")
        #expect(s.isCreationInProcess && !s.isFailed)
        #expect(!s.isHibernated && !s.isHibernatingOrWakingUp)
    }

    @Test func absentAndMistypedFieldsReadAsZeroValues() {
        let s = Shoot(raw: [
            "spec": ["networking": "calico", "kubernetes": ["kubeProxy": ["enabled": false]]], "status": ["lastOperation": ["state": "Failed"]],
        ])
        #expect(s.networking == nil)
        #expect(s.statusNetworking == nil)
        #expect(s.isWorkerless)
        #expect(!s.kubeProxyEnabled)
        #expect(s.podNetworks.isEmpty)
        #expect(s.isFailed && !s.isCreationInProcess)
        #expect(!s.needsForceDeletion)
        #expect(Shoot(raw: .null).name == nil)
        #expect(Shoot(raw: ["spec": ["networking": ["providerConfig": nil]]]).networking?.providerConfig == nil)
        #expect(Shoot(raw: ["status": ["lastOperation": nil]]).isCreationInProcess)
    }
}
