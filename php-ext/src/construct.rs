//! Guards against `__construct` called again on a constructed object, which
//! would replace (and free) a state that a running `run()` uses.

use ext_php_rs::class::RegisteredClass;
use ext_php_rs::ffi::ext_php_rs_executor_globals;
use ext_php_rs::types::ZendClassObject;

/// True when `__construct` is being called again on a constructed `T`.
pub fn constructed_already<T: RegisteredClass>() -> bool {
    // SAFETY: during this internal call, the current frame is the constructor's,
    // whose `This` is the object being constructed; it is only read.
    let frame = unsafe {
        (*ext_php_rs_executor_globals())
            .current_execute_data
            .as_ref()
    };
    frame
        .and_then(|frame| frame.This.object())
        .is_some_and(|object| ZendClassObject::<T>::from_zend_obj(object).is_some())
}
