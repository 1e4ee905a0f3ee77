//! `dfctl security-group`: groups and their embedded rules.
//!
//! Why rules are edited through the group: Dragonflow stores a group and its
//! rules as one object, so adding or deleting a rule is a read-modify-write
//! of the group (with its version bumped), and the SG app sees each rule set
//! whole.

use anyhow::Result;
use df_model::{Direction, EtherType, LogicalPort, Model, SecurityGroup, SecurityGroupRule};

use crate::cli::{DirectionArg, EtherTypeArg, Global, RuleAdd, RuleCommand, SecurityGroupCommand};
use crate::cmd_network::{deleted, opt, print_obj};
use crate::db::Db;
use crate::error::fail;
use crate::objects::{self, label};
use crate::out;

/// Runs a `security-group` subcommand.
///
/// # Errors
/// Not found, in use, invalid, store errors.
pub async fn run(g: &Global, cmd: SecurityGroupCommand) -> Result<()> {
    let db = crate::db::open(g).await?;
    let db = db.as_ref();
    match cmd {
        SecurityGroupCommand::Create {
            name,
            id,
            description,
        } => {
            objects::check_name_free::<SecurityGroup>(db, &name).await?;
            let sg = SecurityGroup {
                id: id.unwrap_or_else(objects::new_id),
                topic: g.topic.clone(),
                name: Some(name),
                version: None,
                unique_key: None,
                rules: Vec::new(),
                description,
            };
            let sg = objects::create(db, sg).await?;
            show(
                g,
                &sg,
                Some(format!("created security group {}", label(&sg))),
            );
            Ok(())
        }
        SecurityGroupCommand::List => {
            let groups = objects::list::<SecurityGroup>(db).await?;
            if g.json {
                let v: Vec<&SecurityGroup> = groups.iter().map(|s| &s.obj).collect();
                out::print_json(&serde_json::to_value(v)?);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = groups
                .iter()
                .map(|s| {
                    let s = &s.obj;
                    vec![
                        s.id.clone(),
                        s.name.clone().unwrap_or_default(),
                        s.rules.len().to_string(),
                        opt(s.unique_key),
                    ]
                })
                .collect();
            out::print(&out::table(&["ID", "NAME", "RULES", "KEY"], &rows));
            Ok(())
        }
        SecurityGroupCommand::Show { group } => {
            let sg = objects::resolve::<SecurityGroup>(db, &group).await?;
            show(g, &sg.obj, None);
            Ok(())
        }
        SecurityGroupCommand::Delete { group } => {
            let sg = objects::resolve::<SecurityGroup>(db, &group).await?;
            let id = sg.obj.id.clone();
            let users: Vec<String> = objects::list::<LogicalPort>(db)
                .await?
                .iter()
                .filter(|p| p.obj.security_groups.contains(&id))
                .map(|p| format!("`{}`", label(&p.obj)))
                .collect();
            if !users.is_empty() {
                fail!(
                    "security group `{}` is used by ports {}; take it off them first",
                    label(&sg.obj),
                    users.join(", ")
                );
            }
            let referrers: Vec<String> = objects::list::<SecurityGroup>(db)
                .await?
                .iter()
                .filter(|o| o.obj.id != id)
                .filter(|o| {
                    o.obj
                        .rules
                        .iter()
                        .any(|r| r.remote_group_id.as_deref() == Some(id.as_str()))
                })
                .map(|o| format!("`{}`", label(&o.obj)))
                .collect();
            if !referrers.is_empty() {
                fail!(
                    "security group `{}` is the remote group of rules in {}; delete those rules first",
                    label(&sg.obj),
                    referrers.join(", ")
                );
            }
            objects::delete(db, SecurityGroup::TABLE, &id).await?;
            deleted(g, "security group", &sg.obj);
            Ok(())
        }
        SecurityGroupCommand::Rule(RuleCommand::Add(a)) => add_rule(g, db, a).await,
        SecurityGroupCommand::Rule(RuleCommand::Delete { group, rule }) => {
            let sg = objects::resolve::<SecurityGroup>(db, &group).await?;
            let name = label(&sg.obj);
            let sg = objects::update::<SecurityGroup, _>(db, &sg.obj.id, |sg| {
                if !sg.rules.iter().any(|r| r.id == rule) {
                    fail!(
                        "security group `{name}` has no rule `{rule}` (see `dfctl security-group show {name}`)"
                    );
                }
                sg.rules.retain(|r| r.id != rule);
                Ok(())
            })
            .await?;
            show(
                g,
                &sg,
                Some(format!("deleted rule {rule} from security group {name}")),
            );
            Ok(())
        }
    }
}

async fn add_rule(g: &Global, db: &dyn Db, a: RuleAdd) -> Result<()> {
    let sg = objects::resolve::<SecurityGroup>(db, &a.group).await?;
    let remote_group_id = match &a.remote_group {
        Some(r) => Some(objects::resolve::<SecurityGroup>(db, r).await?.obj.id),
        None => None,
    };
    let ethertype = match (a.ethertype, a.remote_ip_prefix) {
        (Some(EtherTypeArg::Ipv4), _) => EtherType::Ipv4,
        (Some(EtherTypeArg::Ipv6), _) => EtherType::Ipv6,
        (None, Some(p)) if p.is_ipv6() => EtherType::Ipv6,
        (None, _) => EtherType::Ipv4,
    };
    let (port_range_min, port_range_max) = match (a.port_range, a.protocol) {
        (None, _) => (None, None),
        (Some((min, max)), Some(p)) if p.is_icmp() => (Some(min), max),
        (Some((min, max)), _) => (Some(min), Some(max.unwrap_or(min))),
    };
    let rule = SecurityGroupRule {
        id: a.id.unwrap_or_else(objects::new_id),
        topic: Some(sg.obj.topic.clone()),
        version: None,
        direction: match a.direction {
            DirectionArg::Ingress => Direction::Ingress,
            DirectionArg::Egress => Direction::Egress,
        },
        ethertype,
        port_range_max,
        port_range_min,
        protocol: a.protocol,
        remote_group_id,
        remote_ip_prefix: a.remote_ip_prefix,
        security_group_id: Some(sg.obj.id.clone()),
    };
    let name = label(&sg.obj);
    let rule_id = rule.id.clone();
    let sg = objects::update::<SecurityGroup, _>(db, &sg.obj.id, |sg| {
        let same = |r: &SecurityGroupRule| {
            SecurityGroupRule {
                id: rule.id.clone(),
                topic: rule.topic.clone(),
                version: rule.version,
                ..r.clone()
            } == rule
        };
        if let Some(dup) = sg.rules.iter().find(|r| same(r)) {
            fail!(
                "security group `{name}` already has this rule (id {}); nothing added",
                dup.id
            );
        }
        sg.rules.push(rule.clone());
        Ok(())
    })
    .await?;
    show(
        g,
        &sg,
        Some(format!("added rule {rule_id} to security group {name}")),
    );
    Ok(())
}

fn show(g: &Global, sg: &SecurityGroup, heading: Option<String>) {
    if g.json {
        print_obj(g, sg, heading);
        return;
    }
    if let Some(h) = heading {
        out::print(&h);
    }
    let mut head = sg.clone();
    head.rules.clear();
    print_obj(g, &head, None);
    let rows: Vec<Vec<String>> = sg
        .rules
        .iter()
        .map(|r| {
            let ports = match (r.port_range_min, r.port_range_max) {
                (None, None) => "any".to_string(),
                (Some(a), Some(b)) if a == b => a.to_string(),
                (Some(a), Some(b)) => format!("{a}:{b}"),
                (Some(a), None) => a.to_string(),
                (None, Some(b)) => format!(":{b}"),
            };
            let remote = match (&r.remote_ip_prefix, &r.remote_group_id) {
                (Some(p), _) => p.to_string(),
                (None, Some(g)) => format!("group {g}"),
                (None, None) => "any".into(),
            };
            vec![
                r.id.clone(),
                r.direction.to_string(),
                r.ethertype.to_string(),
                r.protocol.map_or("any".into(), |p| p.to_string()),
                ports,
                remote,
            ]
        })
        .collect();
    if rows.is_empty() {
        out::print("rules: none (the group allows nothing)");
    } else {
        out::print("rules:");
        out::print(&out::table(
            &[
                "ID",
                "DIRECTION",
                "ETHERTYPE",
                "PROTOCOL",
                "PORTS",
                "REMOTE",
            ],
            &rows,
        ));
    }
}
