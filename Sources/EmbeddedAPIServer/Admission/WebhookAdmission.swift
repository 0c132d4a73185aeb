import KubeCore
import Synchronization

/// A write that webhooks may have to admit.
enum AdmissionWrite: Sendable {
    case create(body: JSON)
    case update(name: String, body: JSON)
    case patch(name: String, contentType: String, body: [UInt8])
    case delete(name: String, options: StoreState.DeleteOptions)

    var name: String? {
        switch self {
        case .create: return nil
        case .update(let n, _), .patch(let n, _, _), .delete(let n, _): return n
        }
    }

    /// The operations the write may turn out to be (an update or patch of a missing object may create it).
    var possibleOperations: [AdmissionOperation] {
        switch self {
        case .create: return [.create]
        case .update, .patch: return [.update, .create]
        case .delete: return [.delete]
        }
    }

    /// The same write without effects (`dryRun`).
    var dry: AdmissionWrite {
        guard case .delete(let n, var options) = self else { return self }
        options.dryRun = true
        return .delete(name: n, options: options)
    }

    /// Runs the write on the store (under its lock).
    func perform(_ req: ResourceRequest, _ s: inout StoreState) throws(APIError) -> (Int, JSON) {
        switch self {
        case .create(let body): return try s.create(req, body: body)
        case .update(let name, let body): return try s.update(req, name: name, body: body)
        case .patch(let name, let type, let body): return try s.patch(req, name: name, contentType: type, body: body)
        case .delete(let name, let options): return try s.delete(req, name: name, options: options)
        }
    }
}

/// The identity a webhook is told made the request.
struct AdmissionUser: Sendable {
    var username: String
    var groups: [String]

    /// The request's authenticated identity: its client certificate's user, else the bearer
    /// token's kubeconfig admin.
    init(_ request: APIRequest) {
        if let user = request.certificateUser {
            username = user
            groups = ["system:authenticated"]
        } else {
            username = "embedded-admin"
            groups = ["system:masters", "system:authenticated"]
        }
    }

    var json: JSON { ["username": .string(username), "groups": .array(groups.map(JSON.string))] }
}

extension Router {
    /// The write's response when webhooks may have to admit it, nil otherwise (the synchronous
    /// path). Only a stored webhook configuration whose rules cover the write's resource and
    /// operation leaves the fast path (see docs/local.md, "Admission webhooks").
    func admittedWrite(_ write: AdmissionWrite, _ req: ResourceRequest, _ request: APIRequest) -> APIResponse? {
        guard webhooksCover(write, req) else { return nil }
        let user = AdmissionUser(request)
        return .deferred { await WebhookAdmission(store: self.store, user: user).run(write, req) }
    }
}

extension Router {
    /// Whether a registered webhook's rules cover the write's resource and operation.
    func webhooksCover(_ write: AdmissionWrite, _ req: ResourceRequest) -> Bool {
        guard !AdmissionWebhooks.exempt(req.info) else {
            if req.info.group == "admissionregistration.k8s.io" { admission.maybeRegistered.store(true, ordering: .releasing) }
            return false
        }
        guard admission.maybeRegistered.load(ordering: .acquiring) else { return false }
        return store.state.withLock { (s: inout StoreState) -> Bool in
            guard AdmissionWebhooks.anyRegistered(s) else { return false }
            return write.possibleOperations.contains { op in
                let a = AdmissionAttributes(
                    info: req.info, subresource: req.subresource, operation: op, namespace: req.namespace, name: write.name ?? "")
                return !AdmissionWebhooks.candidates(s, a).isEmpty
            }
        }
    }

    /// A deletecollection whose deletions webhooks may have to admit: each object is deleted
    /// as by its own DELETE (admitted one by one, in order); the first failure ends it.
    func admittedDeleteCollection(
        _ req: ResourceRequest, options: StoreState.DeleteOptions, _ labels: LabelSelector, _ fields: FieldSelector, _ request: APIRequest
    ) -> APIResponse? {
        guard webhooksCover(.delete(name: "", options: options), req) else { return nil }
        let user = AdmissionUser(request)
        let store = store
        return .deferred {
            var listReq = req
            listReq.query = [:]
            let objects = store.read { s in s.filtered(listReq, labelSelector: labels, fieldSelector: fields) }
            var items: [JSON] = []
            for obj in objects {
                let (ns, name) = StoreState.names(obj)
                var r = req
                r.namespace = ns
                let admission = WebhookAdmission(store: store, user: user)
                do throws(APIError) {
                    let result = try await admission.admit(.delete(name: name, options: options), r)
                    items.append(Router.present(result["kind"]?.stringValue == "Status" ? obj : result, req.info))
                } catch {
                    return Router.json(error.code, error.status, extra: req.warnings.headers)
                }
            }
            let meta: JSON = ["resourceVersion": .string(String(store.read { $0.rv }))]
            let list: JSON = [
                "kind": .string(req.info.listKind), "apiVersion": .string(req.info.groupVersion), "metadata": meta, "items": .array(items),
            ]
            return Router.json(200, list, extra: req.warnings.headers)
        }
    }
}

/// Whether webhooks may be registered: false until a webhook configuration is loaded or written,
/// then true for good, so that a server without webhooks checks nothing under the store's lock.
final class AdmissionGate: Sendable {
    let maybeRegistered: Atomic<Bool>

    init(_ store: Store) {
        maybeRegistered = Atomic(store.state.withLock { AdmissionWebhooks.anyRegistered($0) })
    }
}

/// One admitted write, as kube-apiserver orders it: the server's own checks (a dry run), the
/// mutating webhooks, the checks again on the mutated object, the validating webhooks, then
/// the commit, provided the object did not change meanwhile (otherwise all of it again).
struct WebhookAdmission: Sendable {
    let store: Store
    let user: AdmissionUser
    static let attempts = 5

    func run(_ write: AdmissionWrite, _ req: ResourceRequest) async -> APIResponse {
        do throws(APIError) {
            let (code, obj) = try await admitWithCode(write, req)
            return Router.json(code, Router.present(obj, req.info), extra: req.warnings.headers)
        } catch {
            var extra = req.warnings.headers
            if let r = error.details?["retryAfterSeconds"]?.intValue { extra.append(("Retry-After", String(r))) }
            return Router.json(error.code, error.status, extra: extra)
        }
    }

    /// The admitted write's result (retried while the object changes under it).
    func admitWithCode(_ write: AdmissionWrite, _ req: ResourceRequest) async throws(APIError) -> (Int, JSON) {
        for _ in 0..<Self.attempts {
            if let result = try await attempt(write, req) { return result }
        }
        throw APIError.conflict(req.info, write.name ?? "")
    }

    /// The admitted write's resulting object (or Status).
    func admit(_ write: AdmissionWrite, _ req: ResourceRequest) async throws(APIError) -> JSON {
        try await admitWithCode(write, req).1
    }

    static func resourceVersion(_ obj: JSON?) -> String? { obj?[path: "metadata", "resourceVersion"]?.stringValue }

    /// One pass; nil when the object changed before the commit.
    func attempt(_ write: AdmissionWrite, _ req: ResourceRequest) async throws(APIError) -> (Int, JSON)? {
        let info = req.info
        var dryReq = req
        dryReq.dryRun = true
        let (initial, hooks, oldRV) = try store.with { (s: inout StoreState) throws(APIError) -> (AdmissionAttributes, [AdmissionWebhook], String?) in
            let old = write.name.flatMap { s.object(info, req.namespace, $0) }
            let (_, would) = try write.dry.perform(dryReq, &s)
            let isDelete: Bool
            if case .delete = write { isDelete = true } else { isDelete = false }
            let a = AdmissionAttributes(
                info: info, subresource: req.subresource, operation: isDelete ? .delete : (old == nil ? .create : .update),
                namespace: req.namespace, name: write.name ?? StoreState.names(would).name,
                object: isDelete ? nil : Router.present(would, info), oldObject: old.map { Router.present($0, info) },
                namespaceLabels: info.namespaced ? (s.namespaceObject(req.namespace)?[path: "metadata", "labels"] ?? .emptyObject) : nil)
            return (a, AdmissionWebhooks.candidates(s, a), Self.resourceVersion(old))
        }
        var attributes = initial
        if attributes.operation == .create, var view = attributes.object {
            // A new object reaches mutating webhooks as in kube-apiserver: before the server gives
            // it a uid, a creationTimestamp and a generation.
            for field in ["uid", "creationTimestamp", "generation"] { view[path: "metadata", field] = nil }
            attributes.object = view
        }
        var mutated = false
        for hook in hooks where hook.mutating {
            guard let response = try await call(hook, attributes, req) else { continue }
            if let patched = try Self.applyPatch(response, hook: hook, to: attributes.object), patched != attributes.object {
                attributes.object = patched
                mutated = true
            }
        }
        if !mutated { attributes.object = initial.object }
        var final = write
        if let object = attributes.object, attributes.operation == .create {
            var body = object
            body[path: "metadata", "resourceVersion"] = nil
            final = .create(body: body)
        } else if mutated, let object = attributes.object, let name = write.name {
            var body = object
            body[path: "metadata", "resourceVersion"] = oldRV.map(JSON.string) ?? .null
            final = .update(name: name, body: body)
        }
        if mutated {
            // The server's checks again, on what the mutating webhooks made of the object.
            let rerun = try store.with { (s: inout StoreState) throws(APIError) -> JSON? in
                guard Self.resourceVersion(write.name.flatMap { s.object(info, req.namespace, $0) }) == oldRV else { return nil }
                return try final.dry.perform(dryReq, &s).1
            }
            guard let rerun else { return nil }
            attributes.object = Router.present(rerun, info)
        }
        try await validate(hooks.filter { !$0.mutating }, attributes, req)
        let commit = final
        return try store.with { (s: inout StoreState) throws(APIError) -> (Int, JSON)? in
            guard Self.resourceVersion(write.name.flatMap { s.object(info, req.namespace, $0) }) == oldRV else { return nil }
            return try commit.perform(req, &s)
        }
    }

    /// The validating webhooks, called in parallel; the first failure in call order wins.
    func validate(_ hooks: [AdmissionWebhook], _ attributes: AdmissionAttributes, _ req: ResourceRequest) async throws(APIError) {
        guard !hooks.isEmpty else { return }
        let results = await withTaskGroup(of: (Int, APIError?).self) { group in
            for (i, hook) in hooks.enumerated() {
                group.addTask {
                    do throws(APIError) {
                        _ = try await call(hook, attributes, req)
                        return (i, nil)
                    } catch {
                        return (i, error)
                    }
                }
            }
            var out: [(Int, APIError?)] = []
            for await r in group { out.append(r) }
            return out
        }
        if let failure = results.sorted(by: { $0.0 < $1.0 }).lazy.compactMap(\.1).first { throw failure }
    }

    /// Calls a webhook that matches; nil when it does not match or failed open. Throws the
    /// denial or (failurePolicy Fail) the call's failure, in kube-apiserver's words.
    func call(_ hook: AdmissionWebhook, _ a: AdmissionAttributes, _ req: ResourceRequest) async throws(APIError) -> JSON? {
        func failed(_ reason: String) throws(APIError) -> JSON? {
            if hook.failOpen { return nil }
            throw APIError.internalError("failed calling webhook \"\(hook.name)\": \(reason)")
        }
        guard let matches = hook.selectorsMatch(a) else { return try failed("invalid label selector") }
        guard matches else { return nil }
        if req.dryRun && !hook.sideEffectsSafeForDryRun {
            throw APIError.badRequest("admission webhook \"\(hook.name)\" does not support dry run")
        }
        guard hook.reviewVersions.contains("v1") else {
            return try failed("webhook does not accept known AdmissionReview versions \(hook.reviewVersions), this server sends v1")
        }
        let uid = StoreState.newUID()
        let review = AdmissionReview.request(uid: uid, attributes: a, req: req, user: user)
        let answer: (status: Int, body: [UInt8])
        do throws(WebhookCallError) {
            let endpoint = try WebhookEndpoint(clientConfig: hook.clientConfig, timeoutSeconds: hook.timeoutSeconds)
            answer = try await WebhookClient.post(endpoint, body: review.serialized(), timeout: .seconds(hook.timeoutSeconds))
        } catch {
            return try failed("failed to call webhook: \(error)")
        }
        guard (200..<300).contains(answer.status) else {
            let text = String(decoding: answer.body.prefix(1024), as: UTF8.self)
            return try failed("failed to call webhook: the server responded with status \(answer.status): \(text)")
        }
        let response: JSON
        do throws(WebhookCallError) {
            response = try AdmissionReview.response(answer.body, uid: uid)
        } catch {
            return try failed("received invalid webhook response: \(error)")
        }
        for w in response["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? [] where !w.isEmpty { req.warnings.add(w) }
        if response["allowed"]?.boolValue != true { throw AdmissionReview.denial(hook.name, response["status"]) }
        return response
    }

    /// The object after a mutating webhook's JSONPatch; nil when it sent no patch.
    static func applyPatch(_ response: JSON, hook: AdmissionWebhook, to object: JSON?) throws(APIError) -> JSON? {
        guard let patch = response["patch"]?.stringValue, !patch.isEmpty else { return nil }
        guard let type = response["patchType"]?.stringValue else {
            throw APIError.internalError("failed calling webhook \"\(hook.name)\": webhook returned response.patch but not response.patchType")
        }
        guard type == "JSONPatch" else {
            throw APIError.internalError("failed calling webhook \"\(hook.name)\": webhook returned invalid response.patchType of \"\(type)\"")
        }
        // A deletion has no object to patch (kube-apiserver ignores such patches too).
        guard let object else { return nil }
        guard let bytes = Base64.decode(patch), let ops = (try? JSON.parse(bytes))?.arrayValue else {
            throw APIError.internalError("failed calling webhook \"\(hook.name)\": the patch is not a base64 JSON array")
        }
        do {
            return try Patch.jsonPatch(object, ops)
        } catch {
            throw APIError.internalError(
                "JSON patch of admission webhook \"\(hook.name)\" failed: \((error as? Patch.JSONPatchError)?.message ?? "\(error)")")
        }
    }
}

/// admission.k8s.io/v1 AdmissionReview documents.
enum AdmissionReview {
    /// The request sent to a webhook.
    static func request(uid: String, attributes a: AdmissionAttributes, req: ResourceRequest, user: AdmissionUser) -> JSON {
        let info = a.info
        let kind: JSON = ["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)]
        let resource: JSON = ["group": .string(info.group), "version": .string(info.version), "resource": .string(info.plural)]
        var r: JSON = [
            "uid": .string(uid), "kind": kind, "resource": resource, "requestKind": kind, "requestResource": resource,
            "name": .string(a.name), "operation": .string(a.operation.rawValue), "userInfo": user.json,
            "object": a.object ?? .null, "oldObject": a.oldObject ?? .null, "dryRun": .bool(req.dryRun),
            "options": options(a.operation, req),
        ]
        if info.namespaced { r["namespace"] = .string(a.namespace) }
        if let sub = a.subresource {
            r["subResource"] = .string(sub)
            r["requestSubResource"] = .string(sub)
        }
        return ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": r]
    }

    /// The options of the operation (CreateOptions, UpdateOptions or DeleteOptions).
    static func options(_ op: AdmissionOperation, _ req: ResourceRequest) -> JSON {
        var o: JSON = ["apiVersion": "meta.k8s.io/v1"]
        switch op {
        case .create: o["kind"] = "CreateOptions"
        case .update: o["kind"] = "UpdateOptions"
        case .delete, .connect: o["kind"] = "DeleteOptions"
        }
        if req.dryRun { o["dryRun"] = ["All"] }
        if op != .delete, let fm = req.query["fieldManager"], !fm.isEmpty { o["fieldManager"] = .string(fm) }
        if op == .delete, let p = req.query["propagationPolicy"], !p.isEmpty { o["propagationPolicy"] = .string(p) }
        return o
    }

    /// The `response` of a webhook's answer, checked as kube-apiserver checks it.
    static func response(_ body: [UInt8], uid: String) throws(WebhookCallError) -> JSON {
        guard let doc = try? JSON.parse(body), doc.objectValue != nil else { throw WebhookCallError("the body is not a JSON object") }
        let av = doc["apiVersion"]?.stringValue ?? ""
        let kind = doc["kind"]?.stringValue ?? ""
        guard av == "admission.k8s.io/v1", kind == "AdmissionReview" else {
            throw WebhookCallError("expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got \(av), Kind=\(kind)")
        }
        guard let response = doc["response"], response.objectValue != nil else { throw WebhookCallError("webhook response was absent") }
        let got = response["uid"]?.stringValue ?? ""
        guard got == uid else { throw WebhookCallError("expected response.uid=\"\(uid)\", got \"\(got)\"") }
        return response
    }

    /// A denial as kube-apiserver reports it: the webhook's status with at least code 400 and the
    /// message prefixed `admission webhook "<name>" denied the request`.
    static func denial(_ name: String, _ status: JSON?) -> APIError {
        let deniedBy = "admission webhook \"\(name)\" denied the request"
        let code = status?["code"]?.intValue ?? 0
        let message = status?["message"]?.stringValue ?? ""
        let reason = status?["reason"]?.stringValue ?? ""
        let text = !message.isEmpty ? "\(deniedBy): \(message)" : !reason.isEmpty ? "\(deniedBy): \(reason)" : "\(deniedBy) without explanation"
        var error = APIError(code: max(code, 400), reason: reason.isEmpty ? nil : reason, message: text, details: status?["details"])
        if error.details?.isNull == true { error.details = nil }
        return error
    }
}
