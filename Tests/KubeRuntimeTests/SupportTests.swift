import KubeCore
import Logging
import Testing

@testable import KubeRuntime

@Suite struct BindAddressTests {
    @Test func parsesGoStyleAddresses() throws {
        #expect(try BindAddress.parse(":8080") == BindAddress(host: "0.0.0.0", port: 8080))
        #expect(try BindAddress.parse("127.0.0.1:0") == BindAddress(host: "127.0.0.1", port: 0))
        #expect(try BindAddress.parse("[::1]:9") == BindAddress(host: "::1", port: 9))
        #expect(try BindAddress.parse("0") == nil)
        #expect(try BindAddress.parse("") == nil)
        #expect(throws: BindAddressError.self) { try BindAddress.parse("nonsense") }
        #expect(throws: BindAddressError.self) { try BindAddress.parse(":99999") }
    }
}

@Suite struct HealthProbeTests {
    func request(_ path: String, _ query: [(String, String)] = []) -> EndpointRequest {
        EndpointRequest(method: "GET", path: path, query: query)
    }

    @Test func aggregatedOutputMatchesControllerRuntime() async {
        let probes = HealthProbes()
        probes.addHealthzCheck("ping") { nil }
        probes.addReadyzCheck("informer-sync") { "not synced" }
        probes.addReadyzCheck("a-check") { nil }
        let ok = await probes.handle(request("/healthz"))
        #expect(ok.status == 200 && ok.body == "ok")
        let verbose = await probes.handle(request("/healthz", [("verbose", "")]))
        #expect(verbose.status == 200 && verbose.body == "[+]ping ok\nhealthz check passed\n")
        let failed = await probes.handle(request("/readyz"))
        #expect(failed.status == 500)
        #expect(failed.body == "[+]a-check ok\n[-]informer-sync failed: reason withheld\nhealthz check failed\n")
        let excluded = await probes.handle(request("/readyz", [("exclude", "informer-sync")]))
        #expect(excluded.status == 200 && excluded.body == "ok")
        let single = await probes.handle(request("/readyz/informer-sync"))
        #expect(single.status == 500 && single.body.contains("not synced"))
        let singleOK = await probes.handle(request("/readyz/a-check"))
        #expect(singleOK.status == 200 && singleOK.body == "ok")
        #expect(await probes.handle(request("/nothing")).status == 404)
    }
}

@Suite struct LoggingTests {
    @Test func parsesFlagsWithReferenceMessages() throws {
        #expect(try LoggingOptions.parse(level: "debug", format: "text") == LoggingOptions(level: .debug, format: .text))
        #expect(throws: LoggingOptionsError.self) { try LoggingOptions.parse(level: "trace", format: "json") }
        do {
            _ = try LoggingOptions.parse(level: "info", format: "xml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "invalid --log-format: xml")
        }
        do {
            _ = try LoggingOptions.parse(level: "loud", format: "json")
        } catch {
            #expect(error.description == "invalid --log-level: loud")
        }
    }

    @Test func jsonHandlerWritesZapStyleLines() throws {
        let collector = LogCollector()
        let options = LoggingOptions(level: .info, format: .json)
        var logger = Logger(label: "network") { options.makeHandler(label: $0, sink: .collecting(into: collector)) }
        logger[metadataKey: "namespace"] = "shoot--a--b"
        logger.info("Reconciling", metadata: ["network": "my-shoot"])
        logger.debug("hidden at info level")
        let lines = collector.all
        try #require(lines.count == 1)
        let line = try JSON.parse(string: lines[0])
        #expect(line["level"] == "info")
        #expect(line["logger"] == "network")
        #expect(line["msg"] == "Reconciling")
        #expect(line["network"] == "my-shoot")
        #expect(line["namespace"] == "shoot--a--b")
        let ts = try #require(line["ts"]?.stringValue)
        #expect(ts.count == 24 && ts.hasSuffix("Z"))
        // zap order: level, ts, logger, msg first.
        #expect(lines[0].hasPrefix(#"{"level":"info","ts":""#))
    }

    @Test func consoleHandlerIsReadable() {
        let collector = LogCollector()
        let options = LoggingOptions(level: .debug, format: .text)
        let logger = Logger(label: "manager") { options.makeHandler(label: $0, sink: .collecting(into: collector)) }
        logger.warning("lease lost", metadata: ["lease": "ns/x"])
        let line = collector.all.first ?? ""
        #expect(line.contains("\tWARN\tmanager\tlease lost\t{\"lease\":\"ns/x\"}"))
    }
}
