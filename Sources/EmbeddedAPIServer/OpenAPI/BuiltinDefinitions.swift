/// The OpenAPI definitions of the built-in kinds the embedded server serves, in a compact line
/// format parsed once by ``OpenAPIDefinitions`` (see docs/local.md for what is not reproduced).
///
/// A line without indentation starts a definition: `alias.Name [gvk=group/version/Kind]...
/// [required=a,b] [maptype=atomic] | description`. Indented lines are its properties:
/// `name TYPE [merge=key] [strategy=merge[,retainKeys]] [list=map|atomic|set] [keys=a,b]
/// [maptype=atomic] | description`. TYPE is `string`, `int32`, `int64`, `boolean`, `double`,
/// `byte`, `object` (a free-form object: field names not modelled here), `any`, a definition
/// (`core.Container`), or `[]TYPE` (list) / `{}TYPE` (map). Aliases: see
/// ``OpenAPIDefinitions/aliases``.
enum BuiltinDefinitionsSource {
    static let text = #"""
        meta.ObjectMeta | Standard metadata every persisted resource has.
          annotations {}string | Unstructured key/value data set by tools; not queryable.
          creationTimestamp meta.Time | When the server created the object. Read-only.
          deletionGracePeriodSeconds int64 | Seconds allowed for graceful termination before removal. Read-only.
          deletionTimestamp meta.Time | When the object will be deleted (set by the server on a delete request). Read-only.
          finalizers []string strategy=merge list=set | Conditions that must be cleared before the object is removed from the registry.
          generateName string | Prefix the server uses to generate a unique name when name is empty.
          generation int64 | Sequence number of the desired state's generation. Read-only.
          labels {}string | Map of string keys and values used to organize and select objects.
          managedFields []meta.ManagedFieldsEntry list=atomic | Which manager owns which fields (server-side apply).
          name string | Unique name within a namespace; cannot be updated.
          namespace string | The namespace the object lives in; empty for cluster-scoped objects.
          ownerReferences []meta.OwnerReference merge=uid strategy=merge list=map keys=uid | Objects this object depends on (garbage collection).
          resourceVersion string | Opaque version of the object, for optimistic concurrency and watches. Read-only.
          selfLink string | Deprecated; never set.
          uid string | Unique identifier over time and space. Read-only.
        meta.ListMeta | Metadata of a list response.
          continue string | Token to fetch the next page of a paginated list.
          remainingItemCount int64 | Number of items not yet returned (approximate).
          resourceVersion string | Version of the list, usable to start a watch.
          selfLink string | Deprecated; never set.
        meta.OwnerReference required=apiVersion,kind,name,uid maptype=atomic | Identifies an owning object in the same namespace (or cluster-scoped).
          apiVersion string | API version of the owner.
          blockOwnerDeletion boolean | The owner cannot be deleted from storage before this reference is removed (foreground deletion).
          controller boolean | This reference points to the managing controller.
          kind string | Kind of the owner.
          name string | Name of the owner.
          uid string | UID of the owner.
        meta.ManagedFieldsEntry | A workflow (manager) and the set of fields it manages.
          apiVersion string | Version of the resource the field set applies to.
          fieldsType string | Format of the field set; always FieldsV1.
          fieldsV1 meta.FieldsV1 | The field set.
          manager string | The manager (workflow) owning the fields.
          operation string | Apply or Update.
          subresource string | The subresource the fields were written through ("" for the main resource).
          time meta.Time | When the entry last changed.
        meta.LabelSelector maptype=atomic | A label query over a set of objects; an empty selector matches everything, a null one nothing.
          matchExpressions []meta.LabelSelectorRequirement list=atomic | Requirements, ANDed.
          matchLabels {}string | Exact label matches, ANDed.
        meta.LabelSelectorRequirement required=key,operator | A selector requirement: a key, an operator and values.
          key string | The label key.
          operator string | In, NotIn, Exists or DoesNotExist.
          values []string list=atomic | Values for In and NotIn; empty for Exists and DoesNotExist.
        meta.Condition required=type,status,lastTransitionTime,reason,message | One aspect of the current state of a resource.
          lastTransitionTime meta.Time | When the condition last changed status.
          message string | Human-readable details.
          observedGeneration int64 | The generation the condition was set for.
          reason string | Machine-readable CamelCase reason.
          status string | True, False or Unknown.
          type string | Condition type in CamelCase.
        meta.Status gvk=/v1/Status | Result of an operation that does not return an object.
          apiVersion string | API version of this representation.
          code int32 | Suggested HTTP status code.
          details meta.StatusDetails | Extended data about the reason.
          kind string | Kind of this representation.
          message string | Human-readable description.
          metadata meta.ListMeta | Standard list metadata.
          reason string | Machine-readable reason (empty when none is known).
          status string | Success or Failure.
        meta.StatusDetails | Details of a Status: the object concerned and the causes.
          causes []meta.StatusCause list=atomic | Errors in detail, one per field where possible.
          group string | Group of the resource.
          kind string | Kind of the resource.
          name string | Name of the resource.
          retryAfterSeconds int32 | Seconds a client should wait before retrying.
          uid string | UID of the resource.
        meta.StatusCause | One cause of an error.
          field string | The field the cause concerns (JSON path).
          message string | Human-readable description.
          reason string | Machine-readable reason.
        meta.DeleteOptions | Options of a delete request.
          apiVersion string | API version of this representation.
          dryRun []string list=atomic | All: process the request without storing the result.
          gracePeriodSeconds int64 | Seconds before the object should be deleted.
          ignoreStoreReadErrorWithClusterBreakingPotential boolean | Deletes a corrupt object that cannot be read (unsafe).
          kind string | Kind of this representation.
          orphanDependents boolean | Deprecated: use propagationPolicy.
          preconditions meta.Preconditions | Must be fulfilled before a deletion is carried out.
          propagationPolicy string | Orphan, Background or Foreground garbage collection of dependents.
        meta.Preconditions | Preconditions of a delete.
          resourceVersion string | The expected resourceVersion.
          uid string | The expected UID.
        core.ObjectReference maptype=atomic | A reference to an object, with enough information to inspect or modify it.
          apiVersion string | API version of the referent.
          fieldPath string | A part of the object (e.g. a container) instead of the whole object.
          kind string | Kind of the referent.
          name string | Name of the referent.
          namespace string | Namespace of the referent.
          resourceVersion string | The specific resourceVersion the reference is made to.
          uid string | UID of the referent.
        core.LocalObjectReference maptype=atomic | A reference to an object by name in the same namespace.
          name string | Name of the referent.
        core.Namespace gvk=/v1/Namespace | A scope for names; objects in a namespace are deleted with it.
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          spec core.NamespaceSpec | The behaviour of the namespace.
          status core.NamespaceStatus | The current status of the namespace. Read-only.
        core.NamespaceSpec | Attributes of a namespace.
          finalizers []string list=atomic | Must be empty before the namespace is removed.
        core.NamespaceStatus | Status of a namespace.
          conditions []core.NamespaceCondition merge=type strategy=merge list=map keys=type | Latest observations of the namespace's state.
          phase string | Active or Terminating.
        core.NamespaceCondition required=type,status | A condition of a namespace.
          lastTransitionTime meta.Time | When the condition last changed status.
          message string | Human-readable details.
          reason string | Machine-readable reason.
          status string | True, False or Unknown.
          type string | Type of the condition.
        core.Secret gvk=/v1/Secret | Secret data of a certain type; values are base64-encoded and limited to 1 MiB in total.
          apiVersion string | API version of this representation.
          data {}byte | Secret data; keys are alphanumeric, '-', '_' or '.', values base64 encoded.
          immutable boolean | When true, data cannot be changed (only metadata).
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          stringData {}string | Write-only convenience: plain-text values merged into data on write.
          type string | Used to facilitate programmatic handling of the data (e.g. kubernetes.io/tls).
        core.ConfigMap gvk=/v1/ConfigMap | Non-confidential configuration data.
          apiVersion string | API version of this representation.
          binaryData {}byte | Binary values, base64 encoded; keys must not overlap with data.
          data {}string | UTF-8 values.
          immutable boolean | When true, data cannot be changed (only metadata).
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
        core.ServiceAccount gvk=/v1/ServiceAccount | An identity for processes in pods, bound to tokens and secrets.
          apiVersion string | API version of this representation.
          automountServiceAccountToken boolean | Whether pods using this account get a token mounted automatically.
          imagePullSecrets []core.LocalObjectReference list=atomic | Secrets used to pull images of pods using this account.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          secrets []core.ObjectReference merge=name strategy=merge | Deprecated: secrets pods using this account may use.
        core.Service gvk=/v1/Service | A named abstraction of software service: a port the proxy listens on and the selector of the pods serving it.
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          spec core.ServiceSpec | Behaviour of the service.
          status core.ServiceStatus | Most recently observed status of the service. Read-only.
        core.ServiceSpec | Attributes of a service.
          allocateLoadBalancerNodePorts boolean | Whether node ports are allocated for a LoadBalancer service.
          clusterIP string | The IP address of the service, allocated by the server; None for a headless service.
          clusterIPs []string list=atomic | The IP addresses of the service (one per IP family).
          externalIPs []string list=atomic | IPs for which nodes also accept traffic for this service.
          externalName string | DNS name returned as a CNAME for an ExternalName service.
          externalTrafficPolicy string | Cluster or Local routing of external traffic.
          healthCheckNodePort int32 | Health check node port for LoadBalancer services with Local traffic policy.
          internalTrafficPolicy string | Cluster or Local routing of cluster-internal traffic.
          ipFamilies []string list=atomic | IPv4 and/or IPv6, in order.
          ipFamilyPolicy string | SingleStack, PreferDualStack or RequireDualStack.
          loadBalancerClass string | The class of the load balancer implementation.
          loadBalancerIP string | Deprecated: the requested load balancer IP.
          loadBalancerSourceRanges []string list=atomic | Client IP ranges allowed through the load balancer.
          ports []core.ServicePort merge=port strategy=merge list=map keys=port,protocol | The ports the service exposes.
          publishNotReadyAddresses boolean | Publish addresses of pods that are not ready.
          selector {}string maptype=atomic | Routes traffic to pods whose labels match.
          sessionAffinity string | ClientIP or None.
          sessionAffinityConfig core.SessionAffinityConfig | Configuration of session affinity.
          trafficDistribution string | Preference for how traffic is distributed to endpoints.
          type string | ClusterIP, NodePort, LoadBalancer or ExternalName.
        core.ServicePort required=port | One port of a service.
          appProtocol string | The application protocol of the port.
          name string | Name of the port (required with several ports).
          nodePort int32 | The node port for NodePort and LoadBalancer services.
          port int32 | The port the service exposes.
          protocol string | TCP, UDP or SCTP.
          targetPort intstr.IntOrString | The number or name of the port on the pods.
        core.SessionAffinityConfig | Session affinity settings.
          clientIP core.ClientIPConfig | ClientIP affinity settings.
        core.ClientIPConfig | ClientIP affinity settings.
          timeoutSeconds int32 | Sticky session duration.
        core.ServiceStatus | Status of a service.
          conditions []meta.Condition merge=type strategy=merge list=map keys=type | Current conditions of the service.
          loadBalancer core.LoadBalancerStatus | Status of the load balancer, if any.
        core.LoadBalancerStatus | Status of a load balancer.
          ingress []core.LoadBalancerIngress list=atomic | Ingress points of the load balancer.
        core.LoadBalancerIngress | An ingress point of a load balancer.
          hostname string | DNS name of the ingress point.
          ip string | IP of the ingress point.
          ipMode string | VIP or Proxy.
          ports []core.PortStatus list=atomic | Status of the service ports.
        core.PortStatus required=port,protocol | Status of one service port.
          error string | Problem with the port, if any.
          port int32 | The port number.
          protocol string | TCP, UDP or SCTP.
        core.Node gvk=/v1/Node | A worker node.
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          spec core.NodeSpec | Behaviour of the node.
          status core.NodeStatus | Most recently observed status of the node. Read-only.
        core.NodeSpec | Attributes of a node.
          configSource object | Deprecated: dynamic kubelet configuration.
          externalID string | Deprecated.
          podCIDR string | The pod IP range assigned to the node.
          podCIDRs []string strategy=merge list=set | The pod IP ranges assigned to the node (one per IP family).
          providerID string | Cloud provider's ID of the node.
          taints []core.Taint list=atomic | Taints of the node.
          unschedulable boolean | New pods are not scheduled on the node.
        core.Taint required=key,effect | A taint repelling pods that do not tolerate it.
          effect string | NoSchedule, PreferNoSchedule or NoExecute.
          key string | The taint key.
          timeAdded meta.Time | When a NoExecute taint was added.
          value string | The taint value.
        core.NodeStatus | Status of a node.
          addresses []core.NodeAddress merge=type strategy=merge list=map keys=type | Addresses of the node.
          allocatable {}resource.Quantity | Resources available for scheduling.
          capacity {}resource.Quantity | Total resources of the node.
          conditions []core.NodeCondition merge=type strategy=merge list=map keys=type | Current conditions of the node.
          config object | Status of the dynamic kubelet configuration.
          daemonEndpoints object | Endpoints of daemons running on the node.
          declaredFeatures []string list=atomic | Features the node declares.
          features object | Features supported by the node.
          images []core.ContainerImage list=atomic | Images on the node.
          nodeInfo core.NodeSystemInfo | Identification of the node.
          phase string | Deprecated.
          runtimeHandlers []object list=atomic | Available runtime handlers.
          volumesAttached []object list=atomic | Volumes attached to the node.
          volumesInUse []string list=atomic | Volumes in use (mounted) by the node.
        core.NodeAddress required=type,address | An address of a node.
          address string | The address.
          type string | Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS.
        core.NodeCondition required=type,status | A condition of a node.
          lastHeartbeatTime meta.Time | Last time the condition was probed.
          lastTransitionTime meta.Time | When the condition last changed status.
          message string | Human-readable details.
          reason string | Machine-readable reason.
          status string | True, False or Unknown.
          type string | Type of the condition.
        core.ContainerImage | A container image on a node.
          names []string list=atomic | Names of the image.
          sizeBytes int64 | Size of the image.
        core.NodeSystemInfo | Identification of a node.
          architecture string | Architecture of the node.
          bootID string | Boot ID.
          containerRuntimeVersion string | Container runtime version.
          kernelVersion string | Kernel version.
          kubeProxyVersion string | Deprecated.
          kubeletVersion string | Kubelet version.
          machineID string | Machine ID.
          operatingSystem string | Operating system.
          osImage string | OS image.
          swap object | Swap information.
          systemUUID string | System UUID.
        core.Event gvk=/v1/Event required=metadata,involvedObject | A report of an event somewhere in the cluster.
          action string | What action was taken or failed.
          apiVersion string | API version of this representation.
          count int32 | How many times this event occurred.
          eventTime meta.MicroTime | When the event was first observed.
          firstTimestamp meta.Time | When the event was first recorded.
          involvedObject core.ObjectReference | The object this event is about.
          kind string | Kind of this representation.
          lastTimestamp meta.Time | When the event most recently occurred.
          message string | Human-readable description.
          metadata meta.ObjectMeta | Standard object metadata.
          reason string | Short machine-readable reason.
          related core.ObjectReference | A secondary object.
          reportingComponent string | The controller that emitted the event.
          reportingInstance string | The instance of the controller.
          series core.EventSeries | Data about a series of events.
          source core.EventSource | The component reporting the event.
          type string | Normal or Warning.
        core.EventSeries | A series of occurrences of an event.
          count int32 | Number of occurrences.
          lastObservedTime meta.MicroTime | Time of the last occurrence.
        core.EventSource | The source of an event.
          component string | Component the event comes from.
          host string | Node name the event comes from.
        events.Event gvk=events.k8s.io/v1/Event required=eventTime | A report of an event somewhere in the cluster (events.k8s.io).
          action string | What action was taken or failed.
          apiVersion string | API version of this representation.
          deprecatedCount int32 | Deprecated field for compatibility with core/v1 Event.
          deprecatedFirstTimestamp meta.Time | Deprecated field for compatibility with core/v1 Event.
          deprecatedLastTimestamp meta.Time | Deprecated field for compatibility with core/v1 Event.
          deprecatedSource core.EventSource | Deprecated field for compatibility with core/v1 Event.
          eventTime meta.MicroTime | When the event was first observed.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          note string | Human-readable description.
          reason string | Short machine-readable reason.
          regarding core.ObjectReference | The object this event is about.
          related core.ObjectReference | A secondary object.
          reportingController string | The controller that emitted the event.
          reportingInstance string | The instance of the controller.
          series events.EventSeries | Data about a series of events.
          type string | Normal or Warning.
        events.EventSeries required=count,lastObservedTime | A series of occurrences of an event.
          count int32 | Number of occurrences.
          lastObservedTime meta.MicroTime | Time of the last occurrence.
        rbac.PolicyRule required=verbs | Actions allowed on resources or non-resource URLs.
          apiGroups []string list=atomic | API groups of the resources ("" is the core group, * all).
          nonResourceURLs []string list=atomic | Partial URLs (a trailing * matches any suffix); only in ClusterRoles.
          resourceNames []string list=atomic | Names the rule is limited to (empty: all).
          resources []string list=atomic | Resources and subresources (resource/subresource), * for all.
          verbs []string list=atomic | Verbs (get, list, watch, create, update, patch, delete, deletecollection, *).
        rbac.AggregationRule | How a ClusterRole is aggregated from others.
          clusterRoleSelectors []meta.LabelSelector list=atomic | ClusterRoles whose rules are added to this one.
        rbac.Role gvk=rbac.authorization.k8s.io/v1/Role | Namespaced rules, granted by a RoleBinding.
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          rules []rbac.PolicyRule list=atomic | The rules of this role.
        rbac.ClusterRole gvk=rbac.authorization.k8s.io/v1/ClusterRole | Cluster-wide rules, granted by a RoleBinding (in its namespace) or a ClusterRoleBinding.
          aggregationRule rbac.AggregationRule | Selects ClusterRoles to aggregate into this one.
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          rules []rbac.PolicyRule list=atomic | The rules of this role.
        rbac.RoleRef required=apiGroup,kind,name maptype=atomic | The role a binding grants.
          apiGroup string | Group of the role (rbac.authorization.k8s.io).
          kind string | Role or ClusterRole.
          name string | Name of the role.
        rbac.Subject required=kind,name maptype=atomic | A user, group or ServiceAccount a binding grants to.
          apiGroup string | Group of the subject ("" for ServiceAccounts).
          kind string | User, Group or ServiceAccount.
          name string | Name of the subject.
          namespace string | Namespace of a ServiceAccount subject.
        rbac.RoleBinding gvk=rbac.authorization.k8s.io/v1/RoleBinding required=roleRef | Grants a Role or ClusterRole in one namespace.
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          roleRef rbac.RoleRef | The role granted; immutable.
          subjects []rbac.Subject list=atomic | Who is granted the role.
        rbac.ClusterRoleBinding gvk=rbac.authorization.k8s.io/v1/ClusterRoleBinding required=roleRef | Grants a ClusterRole cluster-wide.
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          roleRef rbac.RoleRef | The role granted; immutable.
          subjects []rbac.Subject list=atomic | Who is granted the role.
        authz.ResourceAttributes | A request on a resource.
          group string | API group.
          name string | Object name ("" for all).
          namespace string | Namespace ("" for all, or cluster-scoped).
          resource string | Resource.
          subresource string | Subresource.
          verb string | Verb.
          version string | API version.
        authz.NonResourceAttributes | A request on a non-resource URL.
          path string | The URL path.
          verb string | The HTTP verb in lower case.
        authz.SelfSubjectAccessReviewSpec | The request to check (exactly one of the attributes).
          nonResourceAttributes authz.NonResourceAttributes | A non-resource request.
          resourceAttributes authz.ResourceAttributes | A resource request.
        authz.SubjectAccessReviewStatus required=allowed | The answer of an access review.
          allowed boolean | Whether the request is allowed.
          denied boolean | Whether the request is explicitly denied.
          evaluationError string | An error while evaluating the rules.
          reason string | Why the request is allowed or denied.
        authz.SelfSubjectAccessReview gvk=authorization.k8s.io/v1/SelfSubjectAccessReview required=spec | Whether the caller may do something (kubectl auth can-i).
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          spec authz.SelfSubjectAccessReviewSpec | The request to check.
          status authz.SubjectAccessReviewStatus | The answer.
        authz.SelfSubjectRulesReviewSpec | The namespace to list rules for.
          namespace string | The namespace.
        authz.ResourceRule required=verbs | Resource actions the caller may take.
          apiGroups []string list=atomic | API groups.
          resourceNames []string list=atomic | Names the rule is limited to.
          resources []string list=atomic | Resources.
          verbs []string list=atomic | Verbs.
        authz.NonResourceRule required=verbs | Non-resource actions the caller may take.
          nonResourceURLs []string list=atomic | Partial URLs.
          verbs []string list=atomic | Verbs.
        authz.SubjectRulesReviewStatus required=resourceRules,nonResourceRules,incomplete | The caller's rules in a namespace.
          evaluationError string | An error while evaluating the rules.
          incomplete boolean | Whether the list may be incomplete.
          nonResourceRules []authz.NonResourceRule list=atomic | Non-resource rules.
          resourceRules []authz.ResourceRule list=atomic | Resource rules.
        authz.SelfSubjectRulesReview gvk=authorization.k8s.io/v1/SelfSubjectRulesReview required=spec | What the caller may do in a namespace (kubectl auth can-i --list).
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          spec authz.SelfSubjectRulesReviewSpec | The namespace.
          status authz.SubjectRulesReviewStatus | The rules.
        authn.UserInfo | An authenticated user.
          extra object | Extra attributes of the user.
          groups []string list=atomic | Groups of the user.
          uid string | A unique identifier of the user.
          username string | The user's name.
        authn.SelfSubjectReviewStatus | Who the caller is.
          userInfo authn.UserInfo | The caller.
        authn.SelfSubjectReview gvk=authentication.k8s.io/v1/SelfSubjectReview | Who the caller is (kubectl auth whoami).
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          status authn.SelfSubjectReviewStatus | The answer.
        authn.TokenRequestSpec required=audiences | What a requested token is for.
          audiences []string list=atomic | Audiences the token is valid for.
          boundObjectRef object | An object the token is bound to.
          expirationSeconds int64 | Requested lifetime in seconds.
        authn.TokenRequestStatus required=token,expirationTimestamp | An issued token.
          expirationTimestamp meta.Time | When the token expires.
          token string | The token.
        authn.TokenRequest gvk=authentication.k8s.io/v1/TokenRequest required=spec | A token for a ServiceAccount (kubectl create token).
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          spec authn.TokenRequestSpec | The request.
          status authn.TokenRequestStatus | The token.
        coord.Lease gvk=coordination.k8s.io/v1/Lease | A lease, used for leader election and node heartbeats.
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          spec coord.LeaseSpec | Specification of the lease.
        coord.LeaseSpec | Specification of a lease.
          acquireTime meta.MicroTime | When the current lease was acquired.
          holderIdentity string | The current holder.
          leaseDurationSeconds int32 | How long candidates wait before taking the lease over, measured from renewTime.
          leaseTransitions int32 | Number of holder changes.
          preferredHolder string | The holder the lease should be handed over to.
          renewTime meta.MicroTime | When the holder last renewed the lease.
          strategy string | Strategy for picking the leader in coordinated leader election.
        admreg.ValidatingWebhookConfiguration gvk=admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration | Admission webhooks that accept or reject objects without changing them.
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          webhooks []admreg.ValidatingWebhook merge=name strategy=merge list=map keys=name | The webhooks and the resources and operations they apply to.
        admreg.MutatingWebhookConfiguration gvk=admissionregistration.k8s.io/v1/MutatingWebhookConfiguration | Admission webhooks that accept or reject and may change objects.
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          webhooks []admreg.MutatingWebhook merge=name strategy=merge list=map keys=name | The webhooks and the resources and operations they apply to.
        admreg.ValidatingWebhook required=name,clientConfig,sideEffects,admissionReviewVersions | A validating admission webhook.
          admissionReviewVersions []string list=atomic | AdmissionReview versions the webhook accepts, in order of preference.
          clientConfig admreg.WebhookClientConfig | How to reach the webhook.
          failurePolicy string | Ignore or Fail when the webhook cannot be called.
          matchConditions []admreg.MatchCondition merge=name strategy=merge list=map keys=name | CEL conditions a request must meet to be sent.
          matchPolicy string | Exact or Equivalent matching of the rules.
          name string | Fully qualified name of the webhook.
          namespaceSelector meta.LabelSelector | Which namespaces' objects are sent.
          objectSelector meta.LabelSelector | Which objects are sent, by their labels.
          rules []admreg.RuleWithOperations list=atomic | Operations and resources the webhook cares about.
          sideEffects string | None or NoneOnDryRun.
          timeoutSeconds int32 | Timeout of a call, 1 to 30 seconds.
        admreg.MutatingWebhook required=name,clientConfig,sideEffects,admissionReviewVersions | A mutating admission webhook.
          admissionReviewVersions []string list=atomic | AdmissionReview versions the webhook accepts, in order of preference.
          clientConfig admreg.WebhookClientConfig | How to reach the webhook.
          failurePolicy string | Ignore or Fail when the webhook cannot be called.
          matchConditions []admreg.MatchCondition merge=name strategy=merge list=map keys=name | CEL conditions a request must meet to be sent.
          matchPolicy string | Exact or Equivalent matching of the rules.
          name string | Fully qualified name of the webhook.
          namespaceSelector meta.LabelSelector | Which namespaces' objects are sent.
          objectSelector meta.LabelSelector | Which objects are sent, by their labels.
          reinvocationPolicy string | Never or IfNeeded: call again after later mutations.
          rules []admreg.RuleWithOperations list=atomic | Operations and resources the webhook cares about.
          sideEffects string | None or NoneOnDryRun.
          timeoutSeconds int32 | Timeout of a call, 1 to 30 seconds.
        admreg.WebhookClientConfig | How to connect to a webhook: a URL or a service reference.
          caBundle byte | PEM CA bundle to verify the webhook's serving certificate.
          service admreg.ServiceReference | A service in the cluster.
          url string | The webhook's URL (https).
        admreg.ServiceReference required=namespace,name | A reference to a service.
          name string | Name of the service.
          namespace string | Namespace of the service.
          path string | URL path requests are sent to.
          port int32 | Port of the service (default 443).
        admreg.RuleWithOperations | Operations and resources a rule matches.
          apiGroups []string list=atomic | API groups; * for all.
          apiVersions []string list=atomic | API versions; * for all.
          operations []string list=atomic | CREATE, UPDATE, DELETE, CONNECT or *.
          resources []string list=atomic | Resources and subresources (pods, pods/status, */*).
          scope string | Cluster, Namespaced or *.
        admreg.MatchCondition required=name,expression | A CEL condition on requests sent to a webhook.
          expression string | CEL expression evaluating to a boolean.
          name string | Identifier of the condition.
        apps.Deployment gvk=apps/v1/Deployment | Declarative updates for pods and replica sets.
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          spec apps.DeploymentSpec | Desired behaviour of the deployment.
          status apps.DeploymentStatus | Most recently observed status of the deployment. Read-only.
        apps.DeploymentSpec required=selector,template | Desired behaviour of a deployment.
          minReadySeconds int32 | Seconds a new pod must be ready to count as available.
          paused boolean | The deployment is paused.
          progressDeadlineSeconds int32 | Seconds to make progress before the deployment is considered failed.
          replicas int32 | Number of desired pods (default 1).
          revisionHistoryLimit int32 | Old replica sets kept for rollback (default 10).
          selector meta.LabelSelector | Label selector of the pods; must match the template's labels.
          strategy apps.DeploymentStrategy strategy=retainKeys | How existing pods are replaced by new ones.
          template core.PodTemplateSpec | The pods to create.
        apps.DeploymentStrategy | How to replace existing pods.
          rollingUpdate apps.RollingUpdateDeployment | Rolling update parameters (type RollingUpdate).
          type string | Recreate or RollingUpdate.
        apps.RollingUpdateDeployment | Rolling update parameters of a deployment.
          maxSurge intstr.IntOrString | Pods that may be created above the desired number (number or percentage).
          maxUnavailable intstr.IntOrString | Pods that may be unavailable during the update (number or percentage).
        apps.DeploymentStatus | Observed status of a deployment.
          availableReplicas int32 | Available pods.
          collisionCount int32 | Hash collisions of the template.
          conditions []apps.DeploymentCondition merge=type strategy=merge list=map keys=type | Latest observations of the deployment's state.
          observedGeneration int64 | The generation observed by the controller.
          readyReplicas int32 | Ready pods.
          replicas int32 | Pods targeted by the deployment.
          terminatingReplicas int32 | Terminating pods.
          unavailableReplicas int32 | Unavailable pods.
          updatedReplicas int32 | Pods with the desired template.
        apps.DeploymentCondition required=type,status | A condition of a deployment.
          lastTransitionTime meta.Time | When the condition last changed status.
          lastUpdateTime meta.Time | When the condition was last updated.
          message string | Human-readable details.
          reason string | Machine-readable reason.
          status string | True, False or Unknown.
          type string | Type of the condition.
        apps.DaemonSet gvk=apps/v1/DaemonSet | A set of pods, one on each (selected) node.
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          spec apps.DaemonSetSpec | Desired behaviour of the daemon set.
          status apps.DaemonSetStatus | Most recently observed status of the daemon set. Read-only.
        apps.DaemonSetSpec required=selector,template | Desired behaviour of a daemon set.
          minReadySeconds int32 | Seconds a new pod must be ready to count as available.
          revisionHistoryLimit int32 | Old revisions kept for rollback (default 10).
          selector meta.LabelSelector | Label selector of the pods; must match the template's labels.
          template core.PodTemplateSpec | The pods to create.
          updateStrategy apps.DaemonSetUpdateStrategy | How existing pods are replaced by new ones.
        apps.DaemonSetUpdateStrategy | How to replace the pods of a daemon set.
          rollingUpdate apps.RollingUpdateDaemonSet | Rolling update parameters (type RollingUpdate).
          type string | RollingUpdate or OnDelete.
        apps.RollingUpdateDaemonSet | Rolling update parameters of a daemon set.
          maxSurge intstr.IntOrString | Nodes that may run an old and a new pod at once (number or percentage).
          maxUnavailable intstr.IntOrString | Nodes that may be without an available pod during the update.
        apps.DaemonSetStatus required=currentNumberScheduled,numberMisscheduled,desiredNumberScheduled,numberReady | Observed status of a daemon set.
          collisionCount int32 | Hash collisions of the template.
          conditions []apps.DaemonSetCondition merge=type strategy=merge list=map keys=type | Latest observations of the daemon set's state.
          currentNumberScheduled int32 | Nodes running at least one daemon pod that should.
          desiredNumberScheduled int32 | Nodes that should run the daemon pod.
          numberAvailable int32 | Nodes with an available daemon pod.
          numberMisscheduled int32 | Nodes running the daemon pod that should not.
          numberReady int32 | Nodes with a ready daemon pod.
          numberUnavailable int32 | Nodes without an available daemon pod.
          observedGeneration int64 | The generation observed by the controller.
          updatedNumberScheduled int32 | Nodes running the updated daemon pod.
        apps.DaemonSetCondition required=type,status | A condition of a daemon set.
          lastTransitionTime meta.Time | When the condition last changed status.
          message string | Human-readable details.
          reason string | Machine-readable reason.
          status string | True, False or Unknown.
          type string | Type of the condition.
        core.PodTemplateSpec | The pods a workload creates.
          metadata meta.ObjectMeta | Standard object metadata of the pods.
          spec core.PodSpec | Specification of the pods.
        core.PodSpec required=containers | Specification of a pod.
          activeDeadlineSeconds int64 | Seconds the pod may run before the kubelet stops it.
          affinity core.Affinity | Scheduling constraints.
          automountServiceAccountToken boolean | Whether a service account token is mounted.
          containers []core.Container merge=name strategy=merge list=map keys=name | The containers of the pod (at least one).
          dnsConfig core.PodDNSConfig | DNS settings in addition to those of dnsPolicy.
          dnsPolicy string | ClusterFirstWithHostNet, ClusterFirst, Default or None.
          enableServiceLinks boolean | Inject service information as environment variables.
          ephemeralContainers []object merge=name strategy=merge list=map keys=name | Ephemeral (debugging) containers.
          hostAliases []core.HostAlias merge=ip strategy=merge list=map keys=ip | Entries added to the pod's hosts file.
          hostIPC boolean | Use the host's IPC namespace.
          hostNetwork boolean | Use the host's network namespace.
          hostPID boolean | Use the host's PID namespace.
          hostUsers boolean | Use the host's user namespace.
          hostname string | The pod's hostname.
          hostnameOverride string | Overrides the pod's hostname.
          imagePullSecrets []core.LocalObjectReference merge=name strategy=merge list=map keys=name | Secrets for pulling images.
          initContainers []core.Container merge=name strategy=merge list=map keys=name | Containers run in order before the app containers.
          nodeName string | The node the pod is bound to.
          nodeSelector {}string maptype=atomic | Node labels the pod's node must have.
          os core.PodOS | The operating system of the pod's containers.
          overhead {}resource.Quantity | Resource overhead of the pod's runtime class.
          preemptionPolicy string | Never or PreemptLowerPriority.
          priority int32 | Priority value.
          priorityClassName string | Name of the priority class.
          readinessGates []core.PodReadinessGate list=atomic | Extra conditions for pod readiness.
          resourceClaims []object merge=name strategy=merge,retainKeys list=map keys=name | Dynamic resource claims.
          resources core.ResourceRequirements | Pod-level resources.
          restartPolicy string | Always, OnFailure or Never.
          runtimeClassName string | The runtime class.
          schedulerName string | The scheduler dispatching the pod.
          schedulingGates []core.PodSchedulingGate merge=name strategy=merge list=map keys=name | Gates that block scheduling.
          securityContext core.PodSecurityContext | Pod-level security attributes.
          serviceAccount string | Deprecated alias of serviceAccountName.
          serviceAccountName string | The service account the pod runs as.
          setHostnameAsFQDN boolean | Set the hostname to the fully qualified domain name.
          shareProcessNamespace boolean | Share one process namespace between the containers.
          subdomain string | Subdomain for the pod's fully qualified hostname.
          terminationGracePeriodSeconds int64 | Seconds to terminate gracefully.
          tolerations []core.Toleration list=atomic | Taints the pod tolerates.
          topologySpreadConstraints []core.TopologySpreadConstraint merge=topologyKey strategy=merge list=map keys=topologyKey,whenUnsatisfiable | How pods spread across topology domains.
          volumes []core.Volume merge=name strategy=merge,retainKeys list=map keys=name | Volumes the containers can mount.
        core.Affinity | Scheduling constraints of a pod.
          nodeAffinity object | Node affinity rules.
          podAffinity object | Rules to co-locate pods.
          podAntiAffinity object | Rules to keep pods apart.
        core.PodDNSConfig | DNS settings of a pod.
          nameservers []string list=atomic | DNS server IPs.
          options []core.PodDNSConfigOption list=atomic | Resolver options.
          searches []string list=atomic | Search domains.
        core.PodDNSConfigOption | A resolver option.
          name string | Name of the option.
          value string | Value of the option.
        core.HostAlias required=ip | An entry of the pod's hosts file.
          hostnames []string list=atomic | Hostnames of the IP.
          ip string | The IP address.
        core.PodOS required=name | The operating system of a pod.
          name string | linux or windows.
        core.PodReadinessGate required=conditionType | A pod condition required for readiness.
          conditionType string | Type of the pod condition.
        core.PodSchedulingGate required=name | A gate blocking scheduling.
          name string | Name of the gate.
        core.Toleration | Tolerates a taint.
          effect string | NoSchedule, PreferNoSchedule or NoExecute; empty for all.
          key string | The taint key; empty with Exists for all keys.
          operator string | Exists or Equal.
          tolerationSeconds int64 | How long a NoExecute taint is tolerated.
          value string | The taint value to match.
        core.TopologySpreadConstraint required=maxSkew,topologyKey,whenUnsatisfiable | How to spread matching pods across a topology.
          labelSelector meta.LabelSelector | Pods counted for the spreading.
          matchLabelKeys []string list=atomic | Pod label keys whose values select the pods counted.
          maxSkew int32 | Maximum difference of pod counts between domains.
          minDomains int32 | Minimum number of eligible domains.
          nodeAffinityPolicy string | Honor or Ignore the pod's node affinity.
          nodeTaintsPolicy string | Honor or Ignore node taints.
          topologyKey string | Node label key of the topology domains.
          whenUnsatisfiable string | DoNotSchedule or ScheduleAnyway.
        core.Container required=name | A container in a pod.
          args []string list=atomic | Arguments to the entrypoint.
          command []string list=atomic | The entrypoint (not run in a shell).
          env []core.EnvVar merge=name strategy=merge list=map keys=name | Environment variables.
          envFrom []core.EnvFromSource list=atomic | Sources of environment variables.
          image string | Container image name.
          imagePullPolicy string | Always, Never or IfNotPresent.
          lifecycle core.Lifecycle | Actions on container lifecycle events.
          livenessProbe core.Probe | Restarts the container when it fails.
          name string | Name of the container (a DNS label), unique in the pod.
          ports []core.ContainerPort merge=containerPort strategy=merge list=map keys=containerPort,protocol | Ports the container exposes.
          readinessProbe core.Probe | Removes the pod from service endpoints when it fails.
          resizePolicy []core.ContainerResizePolicy list=atomic | How resources are resized.
          resources core.ResourceRequirements | Compute resources the container needs.
          restartPolicy string | Restart behaviour of an init container (Always for sidecars).
          restartPolicyRules []object list=atomic | Rules for restarting the container on exit.
          securityContext core.SecurityContext | Security options of the container.
          startupProbe core.Probe | Must succeed before the other probes start.
          stdin boolean | Allocate a buffer for stdin.
          stdinOnce boolean | Close stdin after the first attach.
          terminationMessagePath string | File the termination message is read from.
          terminationMessagePolicy string | File or FallbackToLogsOnError.
          tty boolean | Allocate a TTY.
          volumeDevices []core.VolumeDevice merge=devicePath strategy=merge list=map keys=devicePath | Block devices the container uses.
          volumeMounts []core.VolumeMount merge=mountPath strategy=merge list=map keys=mountPath | Volumes mounted into the container.
          workingDir string | Working directory.
        core.ContainerPort required=containerPort | A network port of a container.
          containerPort int32 | Port number on the pod's IP.
          hostIP string | Host IP to bind the host port to.
          hostPort int32 | Port number on the host.
          name string | Name of the port (an IANA service name), referable from services.
          protocol string | TCP, UDP or SCTP.
        core.ContainerResizePolicy required=resourceName,restartPolicy | Resize policy of a resource.
          resourceName string | cpu or memory.
          restartPolicy string | NotRequired or RestartContainer.
        core.EnvVar required=name | An environment variable.
          name string | Name of the variable.
          value string | Value, with $(VAR) references expanded.
          valueFrom core.EnvVarSource | Source of the value.
        core.EnvVarSource | Source of an environment variable's value.
          configMapKeyRef core.ConfigMapKeySelector | A key of a config map.
          fieldRef core.ObjectFieldSelector | A field of the pod.
          fileKeyRef object | A key of a file in a volume.
          resourceFieldRef core.ResourceFieldSelector | A resource limit or request of a container.
          secretKeyRef core.SecretKeySelector | A key of a secret.
        core.ConfigMapKeySelector required=key maptype=atomic | A key of a config map.
          key string | The key.
          name string | Name of the config map.
          optional boolean | The config map or key may be missing.
        core.SecretKeySelector required=key maptype=atomic | A key of a secret.
          key string | The key.
          name string | Name of the secret.
          optional boolean | The secret or key may be missing.
        core.ObjectFieldSelector required=fieldPath maptype=atomic | A field of the pod.
          apiVersion string | Version of the schema fieldPath is written in.
          fieldPath string | Path of the field.
        core.ResourceFieldSelector required=resource maptype=atomic | A resource of a container.
          containerName string | The container (for volumes).
          divisor resource.Quantity | Output format of the resource.
          resource string | The resource, e.g. limits.cpu.
        core.EnvFromSource | A source of a set of environment variables.
          configMapRef core.ConfigMapEnvSource | A config map.
          prefix string | Prepended to every key.
          secretRef core.SecretEnvSource | A secret.
        core.ConfigMapEnvSource | A config map whose keys become environment variables.
          name string | Name of the config map.
          optional boolean | The config map may be missing.
        core.SecretEnvSource | A secret whose keys become environment variables.
          name string | Name of the secret.
          optional boolean | The secret may be missing.
        core.Lifecycle | Actions on container lifecycle events.
          postStart core.LifecycleHandler | Called right after the container is created.
          preStop core.LifecycleHandler | Called before the container is terminated.
          stopSignal string | The signal sent to stop the container.
        core.LifecycleHandler | A lifecycle action.
          exec core.ExecAction | Run a command.
          httpGet core.HTTPGetAction | Send an HTTP GET.
          sleep core.SleepAction | Sleep.
          tcpSocket core.TCPSocketAction | Deprecated: not supported as a lifecycle handler.
        core.Probe | A health check of a container.
          exec core.ExecAction | Run a command.
          failureThreshold int32 | Consecutive failures to count as failed.
          grpc core.GRPCAction | Call a gRPC health check.
          httpGet core.HTTPGetAction | Send an HTTP GET.
          initialDelaySeconds int32 | Seconds after start before probing.
          periodSeconds int32 | Seconds between probes.
          successThreshold int32 | Consecutive successes to count as succeeded.
          tcpSocket core.TCPSocketAction | Open a TCP connection.
          terminationGracePeriodSeconds int64 | Grace period after a failed probe.
          timeoutSeconds int32 | Seconds before a probe times out.
        core.ExecAction | Run a command in the container.
          command []string list=atomic | The command line (not run in a shell).
        core.HTTPGetAction required=port | An HTTP GET request.
          host string | Host name (default: the pod IP).
          httpHeaders []core.HTTPHeader list=atomic | Custom headers.
          path string | Path.
          port intstr.IntOrString | Port number or name.
          scheme string | HTTP or HTTPS.
        core.HTTPHeader required=name,value | An HTTP header.
          name string | Header name.
          value string | Header value.
        core.TCPSocketAction required=port | A TCP connection.
          host string | Host (default: the pod IP).
          port intstr.IntOrString | Port number or name.
        core.GRPCAction required=port | A gRPC health check.
          port int32 | Port number.
          service string | Service name sent in the request.
        core.SleepAction required=seconds | Sleep for a while.
          seconds int64 | Seconds to sleep.
        core.ResourceRequirements | Compute resource requirements.
          claims []object list=map keys=name | Dynamic resource claims used.
          limits {}resource.Quantity | Maximum resources allowed.
          requests {}resource.Quantity | Minimum resources required.
        core.SecurityContext | Security options of a container.
          allowPrivilegeEscalation boolean | A process may gain more privileges than its parent.
          appArmorProfile object | AppArmor options.
          capabilities core.Capabilities | Capabilities to add or drop.
          privileged boolean | Run privileged.
          procMount string | Default or Unmasked.
          readOnlyRootFilesystem boolean | Read-only root filesystem.
          runAsGroup int64 | GID of the entrypoint.
          runAsNonRoot boolean | Must run as a non-root user.
          runAsUser int64 | UID of the entrypoint.
          seLinuxOptions object | SELinux context.
          seccompProfile core.SeccompProfile | Seccomp options.
          windowsOptions object | Windows-specific options.
        core.Capabilities | POSIX capabilities.
          add []string list=atomic | Capabilities to add.
          drop []string list=atomic | Capabilities to drop.
        core.SeccompProfile required=type | A seccomp profile.
          localhostProfile string | Profile file on the node (type Localhost).
          type string | Localhost, RuntimeDefault or Unconfined.
        core.PodSecurityContext | Pod-level security attributes.
          appArmorProfile object | AppArmor options.
          fsGroup int64 | Group owning mounted volumes.
          fsGroupChangePolicy string | OnRootMismatch or Always.
          runAsGroup int64 | GID of the containers' entrypoints.
          runAsNonRoot boolean | Containers must run as a non-root user.
          runAsUser int64 | UID of the containers' entrypoints.
          seLinuxChangePolicy string | How the SELinux label is applied to volumes.
          seLinuxOptions object | SELinux context.
          seccompProfile core.SeccompProfile | Seccomp options.
          supplementalGroups []int64 list=atomic | Extra groups of the first process.
          supplementalGroupsPolicy string | Merge or Strict.
          sysctls []core.Sysctl list=atomic | Namespaced sysctls.
          windowsOptions object | Windows-specific options.
        core.Sysctl required=name,value | A kernel parameter.
          name string | Name of the parameter.
          value string | Value of the parameter.
        core.VolumeMount required=name,mountPath | A volume mounted into a container.
          mountPath string | Path in the container.
          mountPropagation string | None, HostToContainer or Bidirectional.
          name string | Name of the volume.
          readOnly boolean | Mount read-only.
          recursiveReadOnly string | Disabled, IfPossible or Enabled.
          subPath string | Path inside the volume.
          subPathExpr string | Like subPath, with $(VAR) expansion.
        core.VolumeDevice required=name,devicePath | A block device of a container.
          devicePath string | Path in the container.
          name string | Name of the persistent volume claim.
        core.Volume required=name | A named volume of a pod.
          awsElasticBlockStore object | Deprecated in-tree volume type.
          azureDisk object | Deprecated in-tree volume type.
          azureFile object | Deprecated in-tree volume type.
          cephfs object | Deprecated in-tree volume type.
          cinder object | Deprecated in-tree volume type.
          configMap core.ConfigMapVolumeSource | A config map.
          csi core.CSIVolumeSource | An ephemeral volume of a CSI driver.
          downwardAPI core.DownwardAPIVolumeSource | Information about the pod.
          emptyDir core.EmptyDirVolumeSource | A temporary directory sharing the pod's lifetime.
          ephemeral object | A volume from an inline claim template.
          fc object | Deprecated in-tree volume type.
          flexVolume object | Deprecated in-tree volume type.
          flocker object | Deprecated in-tree volume type.
          gcePersistentDisk object | Deprecated in-tree volume type.
          gitRepo object | Deprecated in-tree volume type.
          glusterfs object | Deprecated in-tree volume type.
          hostPath core.HostPathVolumeSource | A file or directory of the host.
          image core.ImageVolumeSource | An OCI image or artifact.
          iscsi object | An iSCSI disk.
          name string | Name of the volume (a DNS label), unique in the pod.
          nfs core.NFSVolumeSource | An NFS mount.
          persistentVolumeClaim core.PersistentVolumeClaimVolumeSource | A persistent volume claim.
          photonPersistentDisk object | Deprecated in-tree volume type.
          portworxVolume object | Deprecated in-tree volume type.
          projected core.ProjectedVolumeSource | Several sources projected into one directory.
          quobyte object | Deprecated in-tree volume type.
          rbd object | Deprecated in-tree volume type.
          scaleIO object | Deprecated in-tree volume type.
          secret core.SecretVolumeSource | A secret.
          storageos object | Deprecated in-tree volume type.
          vsphereVolume object | Deprecated in-tree volume type.
        core.ConfigMapVolumeSource | A config map as a volume.
          defaultMode int32 | Mode bits of the files.
          items []core.KeyToPath list=atomic | Keys to project (default: all).
          name string | Name of the config map.
          optional boolean | The config map or keys may be missing.
        core.SecretVolumeSource | A secret as a volume.
          defaultMode int32 | Mode bits of the files.
          items []core.KeyToPath list=atomic | Keys to project (default: all).
          optional boolean | The secret or keys may be missing.
          secretName string | Name of the secret.
        core.KeyToPath required=key,path | A key projected to a file.
          key string | The key.
          mode int32 | Mode bits of the file.
          path string | Relative path of the file.
        core.EmptyDirVolumeSource | An empty directory.
          medium string | "" (node storage) or Memory.
          sizeLimit resource.Quantity | Maximum size.
        core.HostPathVolumeSource required=path | A host path.
          path string | Path on the host.
          type string | Type check of the path (DirectoryOrCreate, File, ...).
        core.ImageVolumeSource | An OCI image as a volume.
          pullPolicy string | Always, Never or IfNotPresent.
          reference string | Image reference.
        core.NFSVolumeSource required=server,path | An NFS export.
          path string | Exported path.
          readOnly boolean | Mount read-only.
          server string | NFS server.
        core.PersistentVolumeClaimVolumeSource required=claimName | A persistent volume claim as a volume.
          claimName string | Name of the claim.
          readOnly boolean | Mount read-only.
        core.CSIVolumeSource required=driver | An ephemeral CSI volume.
          driver string | Name of the CSI driver.
          fsType string | Filesystem type.
          nodePublishSecretRef core.LocalObjectReference | Secret passed to the driver.
          readOnly boolean | Mount read-only.
          volumeAttributes {}string | Driver-specific attributes.
        core.DownwardAPIVolumeSource | Pod information as files.
          defaultMode int32 | Mode bits of the files.
          items []core.DownwardAPIVolumeFile list=atomic | The files.
        core.DownwardAPIVolumeFile required=path | A file with pod information.
          fieldRef core.ObjectFieldSelector | A field of the pod.
          mode int32 | Mode bits of the file.
          path string | Relative path of the file.
          resourceFieldRef core.ResourceFieldSelector | A resource of a container.
        core.ProjectedVolumeSource | Several sources in one directory.
          defaultMode int32 | Mode bits of the files.
          sources []core.VolumeProjection list=atomic | The sources.
        core.VolumeProjection | One source of a projected volume.
          clusterTrustBundle object | A cluster trust bundle.
          configMap core.ConfigMapProjection | A config map.
          downwardAPI core.DownwardAPIProjection | Pod information.
          podCertificate object | A pod certificate.
          secret core.SecretProjection | A secret.
          serviceAccountToken core.ServiceAccountTokenProjection | A service account token.
        core.ConfigMapProjection | A config map in a projected volume.
          items []core.KeyToPath list=atomic | Keys to project (default: all).
          name string | Name of the config map.
          optional boolean | The config map or keys may be missing.
        core.SecretProjection | A secret in a projected volume.
          items []core.KeyToPath list=atomic | Keys to project (default: all).
          name string | Name of the secret.
          optional boolean | The secret or keys may be missing.
        core.DownwardAPIProjection | Pod information in a projected volume.
          items []core.DownwardAPIVolumeFile list=atomic | The files.
        core.ServiceAccountTokenProjection required=path | A service account token in a projected volume.
          audience string | Intended audience of the token.
          expirationSeconds int64 | Requested lifetime of the token.
          path string | Relative path of the file.
        apiext.CustomResourceDefinition gvk=apiextensions.k8s.io/v1/CustomResourceDefinition required=spec | A resource type served by the API server.
          apiVersion string | API version of this representation.
          kind string | Kind of this representation.
          metadata meta.ObjectMeta | Standard object metadata.
          spec apiext.CustomResourceDefinitionSpec | The resource type.
          status apiext.CustomResourceDefinitionStatus | Status of the definition. Read-only.
        apiext.CustomResourceDefinitionSpec required=group,names,scope,versions | Describes a custom resource type.
          conversion apiext.CustomResourceConversion | How versions are converted.
          group string | API group of the resources.
          names apiext.CustomResourceDefinitionNames | Names of the resource.
          preserveUnknownFields boolean | Deprecated: keep unknown fields (only for v1beta1 compatibility).
          scope string | Cluster or Namespaced.
          versions []apiext.CustomResourceDefinitionVersion list=atomic | Served versions, exactly one of them the storage version.
        apiext.CustomResourceConversion required=strategy | How versions are converted.
          strategy string | None or Webhook.
          webhook apiext.WebhookConversion | Conversion webhook.
        apiext.WebhookConversion required=conversionReviewVersions | A conversion webhook.
          clientConfig apiext.WebhookClientConfig | How to reach the webhook.
          conversionReviewVersions []string list=atomic | ConversionReview versions the webhook accepts.
        apiext.WebhookClientConfig | How to connect to a webhook.
          caBundle byte | PEM CA bundle.
          service apiext.ServiceReference | A service in the cluster.
          url string | URL of the webhook.
        apiext.ServiceReference required=namespace,name | A reference to a service.
          name string | Name of the service.
          namespace string | Namespace of the service.
          path string | URL path.
          port int32 | Port (default 443).
        apiext.CustomResourceDefinitionNames required=plural,kind | Names of a custom resource type.
          categories []string list=atomic | Groups the resource belongs to (e.g. all).
          kind string | Kind (CamelCase singular).
          listKind string | Kind of lists.
          plural string | Plural name used in URLs.
          shortNames []string list=atomic | Short names for kubectl.
          singular string | Singular name.
        apiext.CustomResourceDefinitionVersion required=name,served,storage | A version of a custom resource type.
          additionalPrinterColumns []apiext.CustomResourceColumnDefinition list=atomic | Columns of kubectl get.
          deprecated boolean | The version is deprecated.
          deprecationWarning string | Warning sent to clients using a deprecated version.
          name string | Version name (v1, v1beta1, ...).
          schema apiext.CustomResourceValidation | Schema of the version.
          selectableFields []apiext.SelectableField list=atomic | Fields usable in field selectors.
          served boolean | The version is served.
          storage boolean | The version objects are stored as.
          subresources apiext.CustomResourceSubresources | Subresources served.
        apiext.CustomResourceColumnDefinition required=name,type,jsonPath | A printer column.
          description string | Description of the column.
          format string | Format of the column.
          jsonPath string | JSON path of the value.
          name string | Name of the column.
          priority int32 | 0 for the default view, higher for wide output.
          type string | OpenAPI type of the column.
        apiext.SelectableField required=jsonPath | A field usable in field selectors.
          jsonPath string | JSON path of the field.
        apiext.CustomResourceValidation | Validation of a version.
          openAPIV3Schema apiext.JSONSchemaProps | The OpenAPI v3 schema.
        apiext.CustomResourceSubresources | Subresources of a version.
          scale apiext.CustomResourceSubresourceScale | The scale subresource.
          status object | The status subresource (an empty object enables it).
        apiext.CustomResourceSubresourceScale required=specReplicasPath,statusReplicasPath | The scale subresource.
          labelSelectorPath string | JSON path of the label selector.
          specReplicasPath string | JSON path of the desired replicas.
          statusReplicasPath string | JSON path of the observed replicas.
        apiext.CustomResourceDefinitionStatus | Status of a custom resource type.
          acceptedNames apiext.CustomResourceDefinitionNames | The names actually served.
          conditions []apiext.CustomResourceDefinitionCondition list=map keys=type | Latest observations.
          storedVersions []string list=atomic | Versions objects were ever stored as.
        apiext.CustomResourceDefinitionCondition required=type,status | A condition of a custom resource type.
          lastTransitionTime meta.Time | When the condition last changed status.
          message string | Human-readable details.
          reason string | Machine-readable reason.
          status string | True, False or Unknown.
          type string | Established, NamesAccepted, ...
        apiext.JSONSchemaProps | A JSON schema (draft 4 subset with Kubernetes extensions).
          $ref string | Not allowed in custom resource schemas.
          $schema string | Not allowed in custom resource schemas.
          additionalItems any | Not allowed in structural schemas.
          additionalProperties any | Schema of unnamed properties (or a boolean).
          allOf []apiext.JSONSchemaProps list=atomic | All must match.
          anyOf []apiext.JSONSchemaProps list=atomic | At least one must match.
          default any | Default value.
          definitions {}apiext.JSONSchemaProps | Not allowed in custom resource schemas.
          dependencies {}any | Property dependencies.
          description string | Description.
          enum []any list=atomic | Allowed values.
          example any | Example value.
          exclusiveMaximum boolean | Maximum is exclusive.
          exclusiveMinimum boolean | Minimum is exclusive.
          externalDocs apiext.ExternalDocumentation | External documentation.
          format string | Format of the value (int32, date-time, ...).
          id string | Identifier.
          items any | Schema of list items.
          maxItems int64 | Maximum number of items.
          maxLength int64 | Maximum length.
          maxProperties int64 | Maximum number of properties.
          maximum double | Maximum value.
          minItems int64 | Minimum number of items.
          minLength int64 | Minimum length.
          minProperties int64 | Minimum number of properties.
          minimum double | Minimum value.
          multipleOf double | The value must be a multiple of this.
          not apiext.JSONSchemaProps | Must not match.
          nullable boolean | null is allowed (and kept).
          oneOf []apiext.JSONSchemaProps list=atomic | Exactly one must match.
          pattern string | Regular expression strings must match.
          patternProperties {}apiext.JSONSchemaProps | Schemas by property name pattern.
          properties {}apiext.JSONSchemaProps | Schemas of named properties.
          required []string list=atomic | Required properties.
          title string | Title.
          type string | object, array, string, integer, number or boolean.
          uniqueItems boolean | Items must be unique.
          x-kubernetes-embedded-resource boolean | The value is a Kubernetes object (apiVersion, kind, metadata).
          x-kubernetes-int-or-string boolean | The value is an integer or a string.
          x-kubernetes-list-map-keys []string list=atomic | Keys identifying items of a map list.
          x-kubernetes-list-type string | atomic, set or map.
          x-kubernetes-map-type string | granular or atomic.
          x-kubernetes-preserve-unknown-fields boolean | Unknown fields are kept.
          x-kubernetes-validations []apiext.ValidationRule merge=rule strategy=merge list=map keys=rule | CEL validation rules.
        apiext.ExternalDocumentation | External documentation.
          description string | Description.
          url string | URL.
        apiext.ValidationRule required=rule | A CEL validation rule.
          fieldPath string | Field the failure is reported for.
          message string | Message on failure.
          messageExpression string | CEL expression producing the message.
          optionalOldSelf boolean | Also evaluate on create, with oldSelf absent.
          reason string | Reason on failure (FieldValueInvalid, ...).
          rule string | The CEL expression.
        """#
}
