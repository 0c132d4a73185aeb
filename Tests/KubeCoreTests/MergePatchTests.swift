import KubeCore
import Testing

@Suite struct MergePatchTests {
    @Test func diffSendsOnlyChangesAndNullsForRemovals() throws {
        let old: JSON = ["a": 1, "b": ["c": 1, "d": 2], "e": [1, 2], "gone": "x"]
        let new: JSON = ["a": 1, "b": ["c": 1, "d": 3], "e": [1, 2, 3], "added": true]
        let patch = try #require(MergePatch.diff(from: old, to: new))
        #expect(patch == ["b": ["d": 3], "e": [1, 2, 3], "gone": nil, "added": true])
        #expect(MergePatch.apply(patch, to: old) == new)
        #expect(MergePatch.diff(from: old, to: old) == nil)
    }

    @Test func applyFollowsRFC7386() {
        // Examples in the style of the RFC's appendix.
        #expect(MergePatch.apply(["a": "z"], to: ["a": "b"]) == ["a": "z"])
        #expect(MergePatch.apply(["a": nil], to: ["a": "b", "b": "c"]) == ["b": "c"])
        #expect(MergePatch.apply(["a": ["bb": ["ccc": nil]]], to: ["a": ["bb": ["ccc": "d"]]]) == ["a": ["bb": .emptyObject]])
        #expect(MergePatch.apply(["a": ["b": "c"]], to: ["a": [1, 2]]) == ["a": ["b": "c"]])
        #expect(MergePatch.apply(["a": [1]], to: ["a": ["b": "c"]]) == ["a": [1]])
        #expect(MergePatch.apply(["e": nil], to: ["a": "b"]) == ["a": "b"])
        #expect(MergePatch.apply([1, 2], to: ["a": "b"]) == [1, 2])
        #expect(MergePatch.apply(["a": "b"], to: "scalar") == ["a": "b"])
    }
}
