//! `/admin/users` (admins only): every account, its role and its open sessions. An admin
//! changes a role, disables or enables an account, and ends sessions; changing a role
//! or disabling ends all of that user's sessions at once. Each is a plain form post
//! that comes back to this page (a refusal as the page's notice).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::admin::{RevokeSessions, SetUserDisabled, SetUserRole, list_users},
    domain::{
        Role,
        account::{SessionSummary, UserSummary},
        format,
    },
    error::AppError,
    ui::action_url,
};

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let users = Resource::new(|| (), |_| list_users());

    view! {
        <Title text="Users" />
        <div class="page-head"><h1>"Users"</h1></div>
        <Suspense fallback=|| view! { <p class="loading">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(page) => {
                        let me = page.me;
                        let shown = page.users.len() as u64;
                        view! {
                            <p class="summary">
                                {if shown < page.total {
                                    format!("The first {} of {} accounts, by email. Add accounts with `roster user add`.", format::count(shown), format::count(page.total))
                                } else {
                                    format!("{} accounts. Add accounts with `roster user add`.", format::count(page.total))
                                }}
                            </p>
                            <table class="users-table">
                                <thead><tr>
                                    <th scope="col">"Email"</th>
                                    <th scope="col">"Role"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Sessions"</th>
                                </tr></thead>
                                <tbody>
                                    {page.users.into_iter().map(|user| {
                                        let is_me = user.id == me;
                                        view! { <UserRow user is_me /> }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any()
                    }
                    Err(error) => view! { <UsersError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UsersError(error: AppError) -> impl IntoView {
    view! { <p class="notice notice-error" role="alert">{error.to_string()}</p> }
}

#[component]
fn UserRow(user: UserSummary, is_me: bool) -> impl IntoView {
    let UserSummary {
        id,
        email,
        role,
        disabled,
        sessions,
        ..
    } = user;
    let id = id.to_string();
    let role_cell = if is_me {
        view! { <span>{role.label()}</span> }.into_any()
    } else {
        let select_id = format!("role-{id}");
        let (user_id, label) = (id.clone(), format!("Role of {email}"));
        view! {
            <form method="post" action={action_url::<SetUserRole>()} class="inline-form">
                <input type="hidden" name="user" value=user_id.clone() />
                <label class="visually-hidden" for=select_id.clone()>{label.clone()}</label>
                <select id=select_id name="role">
                    {Role::ALL.into_iter().map(|each| view! {
                        <option value=each.as_str() selected=each == role>{each.label()}</option>
                    }).collect_view()}
                </select>
                <button type="submit">"Change role"</button>
            </form>
        }
        .into_any()
    };
    let disable_form = (!is_me).then(|| {
        let (value, label, class) = if disabled {
            ("false", "Enable", "")
        } else {
            ("true", "Disable", "danger")
        };
        let user_id = id.clone();
        view! {
            <form method="post" action={action_url::<SetUserDisabled>()} class="inline-form">
                <input type="hidden" name="user" value=user_id.clone() />
                <input type="hidden" name="disabled" value=value />
                <button type="submit" class=class>{label}</button>
            </form>
        }
    });
    let sessions_cell = if sessions.is_empty() {
        view! { <span class="muted">"None"</span> }.into_any()
    } else {
        let user_id = id.clone();
        let end_all = (sessions.len() > 1).then(move || {
            view! {
                <form method="post" action={action_url::<RevokeSessions>()} class="inline-form">
                    <input type="hidden" name="user" value=user_id.clone() />
                    <button type="submit">"End all sessions"</button>
                </form>
            }
        });
        let items = sessions
            .into_iter()
            .map(|session| view! { <SessionItem user=id.clone() session /> })
            .collect_view();
        view! {
            <ul class="session-list">{items}</ul>
            {end_all}
        }
        .into_any()
    };
    view! {
        <tr data-email=email.clone()>
            <th scope="row">{email.clone()}{is_me.then_some(" (you)")}</th>
            <td>{role_cell}</td>
            <td>{if disabled { "Disabled" } else { "Active" }} {disable_form}</td>
            <td>{sessions_cell}</td>
        </tr>
    }
}

#[component]
fn SessionItem(user: String, session: SessionSummary) -> impl IntoView {
    let from = session
        .ip
        .clone()
        .unwrap_or_else(|| "unknown address".to_owned());
    let agent = session.user_agent.clone().unwrap_or_default();
    view! {
        <li>
            <span title=agent>
                {format!(
                    "Signed in {} from {}, last seen {}",
                    format::date_time(session.signed_in_at_micros),
                    from,
                    format::date_time(session.last_seen_at_micros),
                )}
            </span>
            <form method="post" action={action_url::<RevokeSessions>()} class="inline-form">
                <input type="hidden" name="user" value=user />
                <input type="hidden" name="session" value=session.handle />
                <button type="submit">"End"</button>
            </form>
        </li>
    }
}
