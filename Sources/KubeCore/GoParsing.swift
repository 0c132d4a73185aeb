/// Go's `strconv.ParseBool`: the spellings Go flags and feature gates accept.
public func parseGoBool(_ s: String) -> Bool? {
    switch s {
    case "1", "t", "T", "true", "TRUE", "True": return true
    case "0", "f", "F", "false", "FALSE", "False": return false
    default: return nil
    }
}
