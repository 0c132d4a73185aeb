/// Shell scripts of the calico-node DaemonSet's helper containers; our own scripts with the
/// reference's behaviour (docs/operations.md, Decisions).
/// Constant text: no value substitution (`${POD_CIDR}` is a shell variable of the container).
enum Scripts {
    /// Shared prologue: use the iptables back-end the kubelet uses (nft if its chains exist in
    /// the nft tables, legacy otherwise).
    private static let detectBackend = """
        nft_kubelet_rules=$( (iptables-nft-save -t mangle; ip6tables-nft-save -t mangle ) 2>/dev/null | grep -E '^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY)')
        if [ -n "$nft_kubelet_rules" ]; then
          backend="nft"
        else
          backend="legacy"
        fi

        """

    /// One-liner R of `cleanup-routes`: delete every route installed by BIRD.
    static let cleanupRoutes = "IFS=$'\n';for i in $(ip route | grep 'proto bird');do unset IFS;ip route del $i;done"

    /// Script A of `log-mtu-issues`: log ICMP "fragmentation needed" / "packet too big" packets.
    static let logMTUIssues =
        detectBackend + """
            rulespecV4=("-p" "icmp" "--icmp-type" "fragmentation-needed" "-m" "comment" "--comment" "gardener log mtu problems for ipv4" "-j" "LOG" "--log-prefix" "PACKET-TOO-BIG ")
            rulespecV6=("-p" "ipv6-icmp" "--icmpv6-type" "packet-too-big" "-m" "comment" "--comment" "gardener log mtu problems for ipv6" "-j" "LOG" "--log-prefix" "PACKET-TOO-BIG ")
            if iptables-$backend -t filter -C OUTPUT "${rulespecV4[@]}" 2>/dev/null; then
              echo "IPv4 MTU logging rule already exists"
            else
              iptables-$backend -t filter -I OUTPUT "${rulespecV4[@]}"
            fi
            if ip6tables-$backend -t filter -C OUTPUT "${rulespecV6[@]}" 2>/dev/null; then
              echo "IPv6 MTU logging rule already exists"
            else
              ip6tables-$backend -t filter -I OUTPUT "${rulespecV6[@]}"
            fi

            """

    /// Script B of `add-snat-rule-to-upstream-dns`: masquerade pod traffic to the upstream
    /// name servers of the node (when the pod overlay is off), re-checked every minute.
    static let addSNATRuleToUpstreamDNS =
        detectBackend + #"""
            sleep 15
            trap 'echo Received SIGTERM, exiting...' TERM
            (while true; do
              for i in $(cat /etc/resolv.conf | grep nameserver | sed -n -e 's/^.*nameserver //p' ); do
                if [[ $i =~ .*:.* ]] && [[ ${POD_CIDR} =~ .*:.* ]]; then
                  ip6tables-$backend -t nat -C POSTROUTING -s ${POD_CIDR} -d $i/128 ! -o cali+ -m comment --comment "calico masquerade non-cluster" -j MASQUERADE 2>/dev/null \
                  || ip6tables-$backend -t nat -I POSTROUTING 1 -s ${POD_CIDR} -d $i/128 ! -o cali+ -m comment --comment "calico masquerade non-cluster" -j MASQUERADE
                elif [[ $i =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] && [[ ${POD_CIDR} =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+ ]]; then
                  iptables-$backend -t nat -C POSTROUTING -s ${POD_CIDR} -d $i/32 ! -o cali+ -m comment --comment "calico masquerade non-cluster" -j MASQUERADE 2>/dev/null \
                  || iptables-$backend -t nat -I POSTROUTING 1 -s ${POD_CIDR} -d $i/32 ! -o cali+ -m comment --comment "calico masquerade non-cluster" -j MASQUERADE
                fi
              done
              sleep 60
            done)&
            wait

            """#

    /// Script C of `network-unavailable-condition-ensurer`: run calico-node's startup once more
    /// after initialisation so the node's NetworkUnavailable condition is correct, then idle.
    static let networkUnavailableConditionEnsurer = """
        echo "Waiting 30s for initialization to complete..."
        sleep 30
        echo "Ensuring NetworkUnavailable condition is set correctly..."
        calico-node -startup
        echo "Finished ensuring NetworkUnavailable condition is set correctly. Going to sleep."
        trap 'echo "Got terminated"' TERM
        sleep infinity&
        wait $!

        """

    /// The `install-cni-plugins` argument of the multus DaemonSet; ends in backslash-semicolon.
    static let installCNIPlugins =
        #"find /usr/src/cni/bin -maxdepth 1 -type f ! -name 'host-local' ! -name 'portmap' ! -name 'loopback' ! -name 'tuning' -exec cp {} /host/opt/cni/bin/ \;"#
}
