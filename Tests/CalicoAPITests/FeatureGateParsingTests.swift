import CalicoAPI
import Testing

/// `--feature-gates` spellings the Go binary accepts: `AllAlpha=` / `AllBeta=` and Go bools.
@Suite struct FeatureGateParsingTests {
    @Test func allAlphaSetsEveryAlphaGateAndExplicitGatesWin() throws {
        var g = FeatureGates()
        try g.set("AllAlpha=true")
        #expect(g.nonPrivilegedCalicoNode && g.seamlessOverlaySwitch)
        // Explicit gates win whatever their position.
        var h = FeatureGates()
        try h.set("SeamlessOverlaySwitch=false,AllAlpha=true")
        #expect(h.nonPrivilegedCalicoNode && !h.seamlessOverlaySwitch)
        var i = FeatureGates()
        try i.set("NonPrivilegedCalicoNode=T,AllAlpha=0")
        #expect(i.nonPrivilegedCalicoNode && !i.seamlessOverlaySwitch)
    }

    @Test func allBetaLeavesAlphaGatesAlone() throws {
        var g = FeatureGates()
        try g.set("AllBeta=true")
        #expect(!g.nonPrivilegedCalicoNode && !g.seamlessOverlaySwitch)
    }

    @Test(arguments: ["1", "t", "T", "true", "TRUE", "True"])
    func goTrueSpellings(_ value: String) throws {
        var g = FeatureGates()
        try g.set("AllAlpha=\(value)")
        #expect(g.seamlessOverlaySwitch)
    }

    @Test func invalidValueNamesTheGate() {
        var g = FeatureGates()
        #expect(throws: FeatureGates.Error("invalid value of AllAlpha=yes, err: strconv.ParseBool: parsing \"yes\": invalid syntax")) {
            try g.set("AllAlpha=yes")
        }
    }
}
