//! Undo and redo on the board: each step is what the page held before and
//! after, element by element, so undoing one's own stroke, move or erasure
//! leaves others' drawing as it is.

use crate::call::board::Element;

/// Most steps kept to undo.
const STEPS: usize = 100;

/// One step: on `page`, each element named as it was before (`None`: not
/// there) and as it is after.
#[derive(Debug, Clone)]
pub struct Action {
    pub page: u8,
    pub before: Vec<(String, Option<Element>)>,
    pub after: Vec<(String, Option<Element>)>,
}

#[derive(Debug, Default)]
pub struct History {
    done: Vec<Action>,
    undone: Vec<Action>,
}

impl History {
    pub fn push(&mut self, action: Action) {
        self.done.push(action);
        if self.done.len() > STEPS {
            self.done.remove(0);
        }
        self.undone.clear();
    }

    /// The step to undo (its `before` is to be brought back).
    pub fn undo(&mut self) -> Option<Action> {
        let action = self.done.pop()?;
        self.undone.push(action.clone());
        Some(action)
    }

    /// The step to do again (its `after`).
    pub fn redo(&mut self) -> Option<Action> {
        let action = self.undone.pop()?;
        self.done.push(action.clone());
        Some(action)
    }

    /// How many steps there are to undo and to redo.
    pub fn steps(&self) -> (usize, usize) {
        (self.done.len(), self.undone.len())
    }
}
