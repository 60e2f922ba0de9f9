//! Checked conversions of C arguments: handles, strings, byte ranges, output parameters.
//! Each fails with a [`Failure`] naming the argument instead of crashing on NULL.

use std::ffi::CStr;
use std::os::raw::c_char;
use std::ptr::NonNull;

use engine::server::{ConnId, MessageKind};

use crate::event::{sb_conn_id, sb_message_kind, SB_BINARY, SB_TEXT};
use crate::failure::Failure;
use crate::result::sb_result;

/// Borrows a handle.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` that outlives `'a`.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, what: &str) -> Result<&'a T, Failure> {
    // SAFETY: the caller promises a live handle or NULL, and NULL becomes None.
    unsafe { ptr.as_ref() }.ok_or_else(|| Failure::null(what))
}

/// Borrows a handle for changing it.
///
/// # Safety
/// `ptr` is NULL or points to a live `T` that no one else uses during `'a`.
pub(crate) unsafe fn handle_mut<'a, T>(ptr: *mut T, what: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: as for `handle`, plus exclusive use, which the caller promises.
    unsafe { ptr.as_mut() }.ok_or_else(|| Failure::null(what))
}

/// Moves a value to the heap and hands ownership to C.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Takes back and drops a value made by [`into_handle`]; NULL is ignored.
///
/// # Safety
/// `ptr` is NULL or came from `into_handle::<T>` and was not freed before.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: the caller promises `ptr` came from Box::into_raw and is freed once.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn string<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, Failure> {
    // SAFETY: the caller promises a valid string; NULL is handled by opt_string.
    unsafe { opt_string(ptr, what) }?.ok_or_else(|| Failure::null(what))
}

/// A NUL-terminated UTF-8 string argument that may be NULL.
///
/// # Safety
/// As for [`string`].
pub(crate) unsafe fn opt_string<'a>(
    ptr: *const c_char,
    what: &str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL, and the caller promises NUL termination and lifetime.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    std::str::from_utf8(bytes)
        .map(Some)
        .map_err(|_| Failure::invalid(format!("{what} is not valid UTF-8")))
}

/// A byte range argument; NULL is allowed when `len` is 0.
///
/// # Safety
/// `data` is NULL or points to `len` readable bytes that outlive `'a`.
pub(crate) unsafe fn bytes<'a>(
    data: *const u8,
    len: usize,
    what: &str,
) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if data.is_null() {
        return Err(Failure::null(what));
    }
    if len > isize::MAX as usize {
        return Err(Failure::invalid(format!(
            "{what}: length {len} is too large"
        )));
    }
    // SAFETY: non-NULL, length checked against isize::MAX, and the caller promises `len`
    // readable bytes.
    Ok(unsafe { std::slice::from_raw_parts(data, len) })
}

/// An output parameter, checked for NULL up front and written only on success.
pub(crate) struct Out<T>(NonNull<T>);

impl<T> Out<T> {
    /// Writes the value (the memory may be uninitialized; nothing is read or dropped).
    pub(crate) fn set(self, value: T) {
        // SAFETY: `out` checked non-NULL, and its caller promised a writable, aligned T.
        unsafe { self.0.as_ptr().write(value) }
    }
}

/// Checks an output parameter.
///
/// # Safety
/// `ptr` is NULL or points to writable, aligned memory for a `T` until the call returns.
pub(crate) unsafe fn out<T>(ptr: *mut T, what: &str) -> Result<Out<T>, Failure> {
    NonNull::new(ptr)
        .map(Out)
        .ok_or_else(|| Failure::null(what))
}

/// Checks an optional output parameter (NULL: the caller does not want the value).
///
/// # Safety
/// As for [`out`].
pub(crate) unsafe fn opt_out<T>(ptr: *mut T) -> Option<Out<T>> {
    NonNull::new(ptr).map(Out)
}

/// A message kind argument.
pub(crate) fn message_kind(kind: sb_message_kind) -> Result<MessageKind, Failure> {
    match kind {
        SB_TEXT => Ok(MessageKind::Text),
        SB_BINARY => Ok(MessageKind::Binary),
        other => Err(Failure::invalid(format!(
            "message kind {other} is neither SB_TEXT (1) nor SB_BINARY (2)"
        ))),
    }
}

/// A connection id argument.
pub(crate) fn conn(id: sb_conn_id) -> ConnId {
    ConnId::from_u64(id)
}

/// An optional connection id argument: 0 means none.
pub(crate) fn opt_conn(id: sb_conn_id) -> Option<ConnId> {
    (id != 0).then(|| ConnId::from_u64(id))
}

/// A failure for a caller's array that is too small.
pub(crate) fn too_small(what: &str, capacity: usize, needed: usize) -> Failure {
    Failure::new(
        sb_result::SB_ERR_BUFFER_TOO_SMALL,
        format!("{what} holds {capacity}; {needed} needed"),
    )
}
