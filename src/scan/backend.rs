//! Where a scan's statistics run ([`Backend`]): the GPU context opened once per run, giving an
//! accumulator per stretch of frames, and the CPU taking over when the GPU cannot start or fails.

use super::{BackendChoice, ScanError};
use crate::input::Shape;
use crate::stats::{
    Accumulator, CpuAccumulator, DarkSetup, GpuContext, GpuError, GpuOptions, Moments, StatsError,
};

/// Where a scan's statistics run: the GPU context is opened once per run and gives an
/// accumulator per stretch of frames.
///
/// With [`BackendChoice::Auto`], a machine without a hardware GPU uses the CPU as a matter of
/// course; a GPU that opens but cannot hold the statistics, or fails during the scan (a lost
/// device, a failed allocation), hands over to the CPU, which counts the stretch again, and
/// [`Backend::note`] says why, once.
pub struct Backend {
    gpu: Option<GpuContext>,
    options: GpuOptions,
    fallback: bool,
    note: Option<String>,
    /// Statistics handed back ([`Backend::recycle`]) for the CPU's next accumulator to count into.
    spare: Option<Moments>,
}

impl Backend {
    /// Opens the backend `choice` asks for: a GPU context for `Gpu` (any adapter) and for `Auto`
    /// (hardware adapters only) when one opens.
    ///
    /// With `Auto`, a machine without a hardware adapter is not a fault (the CPU runs, the report
    /// names it); an adapter that is there and does not open is, and the note says why.
    pub fn open(choice: BackendChoice, options: GpuOptions) -> Result<Self, ScanError> {
        let mut backend = Backend {
            gpu: None,
            options,
            fallback: choice == BackendChoice::Auto,
            note: None,
            spare: None,
        };
        match choice {
            BackendChoice::Cpu => {}
            BackendChoice::Gpu => backend.gpu = Some(GpuContext::open(true)?),
            BackendChoice::Auto => match GpuContext::open(false) {
                Ok(ctx) => backend.gpu = Some(ctx),
                Err(GpuError::NoAdapter(_)) => {}
                Err(e) => backend.hand_over(&e.to_string()),
            },
        }
        Ok(backend)
    }

    /// A backend on an open GPU context; with `fallback`, the CPU takes over when the GPU fails,
    /// as with [`BackendChoice::Auto`].
    pub fn on_gpu(context: GpuContext, options: GpuOptions, fallback: bool) -> Self {
        Backend {
            gpu: Some(context),
            options,
            fallback,
            note: None,
            spare: None,
        }
    }

    /// The GPU context, while the GPU runs the statistics.
    pub fn gpu(&self) -> Option<&GpuContext> {
        self.gpu.as_ref()
    }

    /// Why the CPU took over from the GPU, when it did.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// A new accumulator for frames of `shape`, keeping dark-current statistics taken with
    /// `dark` (none when `None`); on the CPU, batching `batch` frames.
    pub fn accumulator(
        &mut self,
        shape: Shape,
        dark: Option<DarkSetup>,
        batch: usize,
    ) -> Result<Box<dyn Accumulator>, ScanError> {
        if let Some(ctx) = &self.gpu {
            match ctx.accumulator_with_dark(shape, self.options, dark) {
                Ok(acc) => return Ok(Box::new(acc)),
                Err(e) if self.fallback => self.hand_over(&e.to_string()),
                Err(e) => return Err(e.into()),
            }
        }
        match self.spare.take().filter(|m| m.shape == shape) {
            Some(spare) => Ok(Box::new(CpuAccumulator::reusing(spare, dark, batch))),
            None => Ok(Box::new(CpuAccumulator::counting_into(
                Moments::with_dark(shape, dark),
                batch,
                None,
            ))),
        }
    }

    /// Hands back statistics no longer needed: the CPU's next accumulator counts into their
    /// memory instead of new memory (which the system must fault in and zero).
    pub fn recycle(&mut self, moments: Moments) {
        if self.gpu.is_none() {
            self.spare = Some(moments);
        }
    }

    /// After an accumulator failed with `error`: true when the CPU takes over (the GPU failed
    /// and falling back is allowed), so that the caller counts the stretch again.
    pub fn recover(&mut self, error: &StatsError) -> bool {
        let takes_over = self.fallback && self.gpu.is_some() && matches!(error, StatsError::Gpu(_));
        if takes_over {
            self.hand_over(&error.to_string());
        }
        takes_over
    }

    fn hand_over(&mut self, reason: &str) {
        self.gpu = None;
        self.note.get_or_insert_with(|| {
            format!("the GPU could not run the statistics ({reason}); the CPU did")
        });
    }
}
