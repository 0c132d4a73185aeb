import CalicoAPI
import Foundation
import GardenerExtensions
import KubeClient
import KubeCore
import TestSupport
import Testing

@testable import NetworkingCalico

/// SeamlessOverlaySwitch (docs/overlay.md), driving the actuator directly; the embedded server
/// plays seed and shoot (the `gardener` secret holds its own kubeconfig).
@Suite(.serialized) struct OverlaySwitchTests {
    func actuator(_ env: Env, gate: Bool) throws -> CalicoActuator {
        var gates = FeatureGates()
        gates.set(.seamlessOverlaySwitch, gate)
        return CalicoActuator(client: env.client, options: CalicoActuatorOptions(featureGates: gates))
    }

    func reconcile(_ env: Env, _ actuator: CalicoActuator) async throws {
        let network = Network(raw: try await env.network())
        let cluster = Cluster(raw: try await env.client.get(.clusters, namespace: nil, name: Env.namespace))
        _ = try await actuator.reconcile(network, cluster: cluster)
    }

    func setOverlay(_ env: Env, _ enabled: Bool) async throws {
        _ = try await env.client.patch(
            .networks, namespace: Env.namespace, name: Env.name,
            ["spec": ["providerConfig": ["overlay": ["enabled": .bool(enabled)]]]], type: .merge)
    }

    @Test func overlaySwitchWaitsForNodeRoutes() async throws {
        try await Env.with { env in
            try await env.createExample(
                cluster: { c in
                    // MutatingAdmissionPolicy available via feature gate + runtime config (the guard is active only then).
                    c[path: "spec", "shoot", "spec", "kubernetes", "kubeAPIServer"] = [
                        "featureGates": ["MutatingAdmissionPolicy": true],
                        "runtimeConfig": ["admissionregistration.k8s.io/v1beta1": true],
                    ]
                },
                network: { n in n[path: "spec", "providerConfig", "overlay", "enabled"] = true })
            let act = try actuator(env, gate: true)
            try await reconcile(env, act)  // first reconcile: nothing deployed yet → no switch
            let (_, _, overlayConfig) = try await env.managedResourceConfig()
            #expect(await act.isOverlaySwitch(namespace: Env.namespace, desiredOverlayEnabled: false))
            #expect(!(await act.isOverlaySwitch(namespace: Env.namespace, desiredOverlayEnabled: true)))

            // Shoot access: the `gardener` secret (no `gardener-internal`) with a kubeconfig.
            _ = try await env.client.create(
                .secrets, namespace: Env.namespace,
                [
                    "apiVersion": "v1", "kind": "Secret",
                    "metadata": ["name": "gardener", "namespace": .string(Env.namespace)],
                    "data": ["kubeconfig": .string(Data(env.server.kubeconfig().utf8).base64EncodedString())],
                ])
            _ = try await env.client.create(
                .nodes, namespace: nil,
                [
                    "apiVersion": "v1", "kind": "Node", "metadata": ["name": "node-a"],
                ])

            try await setOverlay(env, false)
            do {
                try await reconcile(env, act)
                Issue.record("overlay switch was not blocked")
            } catch {
                #expect("\(error)".contains("waiting for routes to be created on all nodes before disabling overlay"), "\(error)")
            }
            // Blocked: the deployed configuration is unchanged.
            #expect(try await env.managedResourceConfig().config == overlayConfig)

            // Routes reported → the switch proceeds.
            var node = try await env.client.get(.nodes, namespace: nil, name: "node-a")
            node["status"] = [
                "conditions": [
                    [
                        "type": "NetworkUnavailable", "status": "False", "reason": "RouteCreated", "message": "routes created",
                    ]
                ]
            ]
            _ = try await env.client.update(.nodes, namespace: nil, node, subresource: "status")
            try await reconcile(env, act)
            let (_, _, newConfig) = try await env.managedResourceConfig()
            #expect(newConfig != overlayConfig)
            #expect(!(await act.isOverlaySwitch(namespace: Env.namespace, desiredOverlayEnabled: false)))
        }
    }

    @Test func gateOffNeverBlocks() async throws {
        try await Env.with { env in
            try await env.createExample(network: { n in n[path: "spec", "providerConfig", "overlay", "enabled"] = true })
            let act = try actuator(env, gate: false)
            try await reconcile(env, act)
            _ = try await env.client.create(
                .nodes, namespace: nil,
                [
                    "apiVersion": "v1", "kind": "Node", "metadata": ["name": "node-a"],
                ])
            try await setOverlay(env, false)
            try await reconcile(env, act)  // no shoot secret needed: the guard does not run
        }
    }
}
