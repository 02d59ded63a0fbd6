@testable import CompactRec
@testable import CompactRecData
@testable import CompactRecInference

/// The setting a model error names when `body` throws `ModelError.invalidSetting`; nil when it
/// throws nothing or another error (so a test can check which setting was refused, not only
/// that something was).
func refusedSetting(_ body: () throws -> Any) -> ModelSetting? {
    do {
        _ = try body()
        return nil
    } catch let error as ModelError {
        if case .invalidSetting(let setting, _) = error { return setting }
        return nil
    } catch {
        return nil
    }
}
